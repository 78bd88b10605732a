-- enroll.lua: decide and record one user's enrollment in one experiment,
-- atomically. The draws are computed in Go (a keyed hash), never here:
-- math.random is not deterministic in Redis 7.
--
-- KEYS[1]  configuration hash   <prefix>
-- KEYS[2]  the user's member bucket in the newest generation
--          <prefix>:m:<bucket>, or <prefix>:m<count>:<bucket> after the first
-- KEYS[3]  event stream   <prefix>:events
-- ARGV[1]  compact user id (member field, see redisstore.EncodeUserID)
-- ARGV[2]  user id as given (for the event)
-- ARGV[3]  sample draw in [0, 1), exact decimal form
-- ARGV[4]  group draw in [0, 1), exact decimal form
-- ARGV[5]  "1" when the user passed the eligibility rules (checked in Go), else "0"
-- ARGV[6]  the member bucket layout the keys were computed from: the fields
--          buckets[,gen] of the configuration hash (see redisstore/keys.go)
--
-- Only for an experiment in a layer (absent otherwise, so the plain path pays
-- nothing for layers):
-- KEYS[4]  layer hash   {layer:<name>}
-- KEYS[5]  the user's layer owner bucket   {layer:<name>}:owner:<bucket>
-- ARGV[7]  the user's layer slot, 0..999 (from assign.NewLayerDraw)
--
-- After those, only when the experiment's buckets have grown generations:
-- KEYS[n..] the user's member buckets of the earlier generations, newest first
--
-- Returns one integer; redisstore/code.go is the only place that reads it:
--     0..99   new member, group index
--   100..199  existing member, group index + 100
--   200..299  rolled-out winner, group index + 200
--   -1 not found, -2 not running, -3 not sampled, -4 sample full, -5 not eligible,
--   -6 the layout in ARGV[6] is stale (the caller reloads it and calls again)
--
-- The first step returns an existing member unchanged, so a replayed call
-- (a retried pipeline) never records or counts a user twice.
--
-- In a layer, a user belongs to at most one experiment of it, for good: the
-- owner bucket maps the user to the layer index of the experiment they joined,
-- written with the member. Anyone owned by another experiment of the layer,
-- or whose slot the layer offers to another experiment, is refused as not
-- eligible (-5). All these keys share the layer's hash tag (one slot).
local config, bucket, events = KEYS[1], KEYS[2], KEYS[3]
local layer, owners, older = nil, nil, 4
if ARGV[7] then
  layer, owners, older = KEYS[4], KEYS[5], 6
end
local user = ARGV[1]

-- 1. A member keeps their group whatever the status, the eligibility of
--    today's token or the caps; only a rollout overrides it. A member found
--    is the answer whatever layout the caller assumed; a miss is trusted only
--    once the layout is checked (step 2).
local rec = redis.call('HGET', bucket, user)
for i = older, #KEYS do
  if rec then
    break
  end
  rec = redis.call('HGET', KEYS[i], user)
end
if rec then
  local winner = tonumber(redis.call('HGET', config, 'winner') or '-1')
  if winner >= 0 then
    return 200 + winner
  end
  return 100 + tonumber(rec) % 128
end

-- 2. The live configuration.
local c
if layer then
  c = redis.call('HMGET', config, 'status', 'max', 'p', 'cum', 'n', 'winner', 't0', 'buckets', 'gen', 'li')
else
  c = redis.call('HMGET', config, 'status', 'max', 'p', 'cum', 'n', 'winner', 't0', 'buckets', 'gen')
end
local status, max, p, cum, n, winner, t0, li = c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[10]
if not status then
  return -1
end
local layout = c[8]
if c[9] then
  layout = layout .. ',' .. c[9]
end
if layout ~= ARGV[6] then
  return -6
end
if layer and not li then
  return redis.error_reply('ERR experiment in a layer has no layer index')
end

-- 3. Who may join, and rollout: the winner goes to every eligible user,
--    whatever the status, without being recorded as a member.
if ARGV[5] ~= '1' then
  return -5
end
-- A rollout reaches the layer's users owned by no other experiment of it.
if layer then
  local owner = redis.call('HGET', owners, user)
  if owner and owner ~= li then
    return -5
  end
end
winner = tonumber(winner)
if winner >= 0 then
  return 200 + winner
end
if status ~= 'running' then
  return -2
end
if layer and redis.call('HGET', layer, 's' .. ARGV[7]) ~= li then
  return -5
end

-- 4. Sampling, then the exact cap (the check and the write below are one
--    atomic step, so no concurrency can overshoot it).
if tonumber(ARGV[3]) >= tonumber(p) then
  return -3
end
if tonumber(n) >= tonumber(max) then
  return -4
end

-- 5. The group: the first i with draw < cum[i] (Go twin: assign.ChooseGroup).
local u = tonumber(ARGV[4])
local group, i = nil, 0
for s in string.gmatch(cum, '[^,]+') do
  if u < tonumber(s) then
    group = i
    break
  end
  i = i + 1
end
if not group then
  group = i - 1
end

-- 6. Record the member (seconds since t0 * 128 + group: a small integer the
--    listpack stores compactly), count it, and tell the warehouse.
local t = redis.call('TIME')
local rel = tonumber(t[1]) - tonumber(t0)
if rel < 0 then
  rel = 0
end
redis.call('HSET', bucket, user, rel * 128 + group)
if layer then
  redis.call('HSET', owners, user, li)
end
redis.call('HINCRBY', config, 'n', 1)
redis.call('HINCRBY', config, 'c' .. group, 1)
local name = redis.call('HGET', config, 'g' .. group)
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
redis.call('XADD', events, '*', 'type', 'enroll', 'user', ARGV[2], 'group', name, 'ts', ms)

-- 7. Grow: once the members outnumber GROW_AT per bucket over all the
--    generations, open a generation twice as large as all before, for the
--    members to come (those written stay where they are). The newest
--    generation thus fills to about GROW_AT per bucket, well inside the
--    listpack limit of 128, and an experiment far below its cap keeps few
--    sparse buckets. Every caller's next miss sees the new layout (-6).
local GROW_AT, MAX_GENERATIONS, MAX_BUCKETS = 80, 8, 65536 -- Go twins in redisstore/definition.go
local total, last, gens = tonumber(c[8]), tonumber(c[8]), 1
if c[9] then
  for s in string.gmatch(c[9], '[^,]+') do
    last = tonumber(s)
    total, gens = total + last, gens + 1
  end
end
if tonumber(n) + 1 > GROW_AT * total and gens < MAX_GENERATIONS and last < MAX_BUCKETS then
  local size = last * 2
  while size < 2 * total and size < MAX_BUCKETS do
    size = size * 2
  end
  local grown = string.format('%d', size)
  if c[9] then
    grown = c[9] .. ',' .. grown
  end
  redis.call('HSET', config, 'gen', grown)
end
return group
