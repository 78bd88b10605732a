-- wrk script for bench/run.sh: POST one enrollment per request with one
-- user's token, so every request after the first is the sticky read of a
-- returning member. TOKEN (an HS256 JWT) and EXPERIMENT come from the
-- environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
-- BODY, when set, replaces the single-experiment body (the multi-experiment
-- form: {"experiment_ids": [...]}).
wrk.body = os.getenv("BODY") or ('{"experiment_id":"' .. os.getenv("EXPERIMENT") .. '"}')
