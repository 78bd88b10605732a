-- wrk script for bench/run.sh: assign-loadtest's mix of new and returning
-- users, from a generator that costs the machine less (wrk is C; the mix
-- without answer verification). TOKENS names a file of bench/tokens
-- ("<experiment id>\t<Authorization value>" per user, none enrolled yet);
-- RETURNING is the fraction of requests from returning users (default 0.5):
-- a returning request asks again, for a user this thread already sent, the
-- same experiment; a new one takes the thread's next unused user. THREADS
-- must be wrk's -t: thread k of n takes the file's lines k, k + n, ... The
-- path is the URL's (bench/run.sh: ENROLL_PATH).
local nthreads = tonumber(os.getenv("THREADS") or "2")
local returning = tonumber(os.getenv("RETURNING") or "0.5")
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

local exps, auths, used = {}, {}, 0

function init(args)
  local i = 0
  for line in io.lines(os.getenv("TOKENS")) do
    if i % nthreads == tid then
      local tab = line:find("\t", 1, true)
      exps[#exps + 1] = '{"experiment_id":"' .. line:sub(1, tab - 1) .. '"}'
      auths[#auths + 1] = line:sub(tab + 1)
    end
    i = i + 1
  end
  math.randomseed(os.time() + tid)
end

function request()
  local u
  if used > 0 and (used >= #auths or math.random() < returning) then
    u = math.random(used)
  else
    used = used + 1
    u = used
  end
  return wrk.format("POST", wrk.path, {["Authorization"] = auths[u], ["Content-Type"] = "application/json"}, exps[u])
end
