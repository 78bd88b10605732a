-- enroll.lua: decide and record one user's enrollment in one experiment,
-- atomically. The draws are computed in Go (a keyed hash), never here:
-- math.random is not deterministic in Redis 7. Every name in capitals is a
-- constant of the contract with Go, generated from scripts/contract.go and
-- prepended to this file; {{ENROLL_FIELDS}} is replaced by the list of the
-- fields the reply indexes C_<NAME> read (scripts/contract.go, enrollFields).
--
-- KEYS[K_CONFIG]  configuration hash   <prefix>
-- KEYS[K_BUCKET]  the user's member bucket in the newest generation
--                 <prefix>:m:<bucket>, or <prefix>:m<count>:<bucket> after the first
-- KEYS[K_EVENTS]  event stream   <prefix>:events
-- KEYS[K_OVERRIDES]  QA overrides   <prefix>:ovr   (user id -> group index [+ OVERRIDE_EXPORTED])
-- ARGV[A_MEMBER]    compact user id (member field, see redisstore.EncodeUserID)
-- ARGV[A_USER_ID]   user id as given (for the event)
-- ARGV[A_SAMPLE]    sample draw in [0, 1), exact decimal form
-- ARGV[A_GROUP]     group draw in [0, 1), exact decimal form
-- ARGV[A_ELIGIBLE]  ARG_TRUE when the user passed the eligibility rules (checked in Go)
-- ARGV[A_FP]        the fingerprint of the caller's definition (field F_FP as
--                   it read it, '' when absent): the salt, groups and rules it
--                   drew with and the t0 it encodes times with
-- ARGV[A_LAYOUT]    the member bucket layout the keys were computed from: the
--                   fields buckets[,gen] of the configuration hash
-- ARGV[A_PLATFORM]  the client's platform for the event ('' for none: no field)
--
-- Only for an experiment in a layer (absent otherwise, so the plain path pays
-- nothing for layers):
-- KEYS[K_LAYER]   layer hash   {layer:<name>}
-- KEYS[K_OWNERS]  the user's layer owner bucket   {layer:<name>}:owner:<bucket>
-- ARGV[A_SLOT]    the user's layer slot, 0..LAYER_SLOTS-1 (from assign.NewLayerDraw)
--
-- After those (from K_OLDER, or K_OLDER_IN_LAYER in a layer), only when the
-- experiment's buckets have grown generations: the user's member buckets of
-- the earlier generations, newest first.
--
-- Returns one integer; redisstore/contract.go is the only place that reads it:
--   R_NEW + group          new member (group index)
--   R_EXISTING + group     existing member
--   R_ROLLED_OUT + group   rolled-out winner
--   R_OVERRIDE + group     a QA override (never a member)
--   R_NOT_FOUND, R_NOT_RUNNING (paused, stopped, or outside the schedule
--            start_at..end_at), R_NOT_SAMPLED, R_SAMPLE_FULL, R_NOT_ELIGIBLE,
--   R_STALE: the caller's definition is not the one in Redis (another
--            fingerprint: the experiment was created again; or another
--            layout): it reloads it and calls again
--
-- The first step returns an existing member unchanged, so a replayed call
-- (a retried pipeline) never records or counts a user twice.
--
-- In a layer, a user belongs to at most one experiment of it, for good: the
-- owner bucket maps the user to the layer index of the experiment they joined,
-- written with the member. Anyone owned by another experiment of the layer,
-- or whose slot the layer offers to another experiment, is refused as not
-- eligible. All these keys share the layer's hash tag (one slot).
local config, bucket, events = KEYS[K_CONFIG], KEYS[K_BUCKET], KEYS[K_EVENTS]
local layer, owners, older = nil, nil, K_OLDER
if ARGV[A_SLOT] then
  layer, owners, older = KEYS[K_LAYER], KEYS[K_OWNERS], K_OLDER_IN_LAYER
end
local user = ARGV[A_MEMBER]
local US_PER_MS = 1000

-- 0. A QA override answers its group whatever the status, the schedule, the
--    eligibility, the layer, the rollout, the cap or a membership, and never
--    records, counts or owns the user: removing it lets them enroll as
--    anyone. Its first answer (per override set) goes to the warehouse
--    flagged, so the analysis leaves it out. Only for the caller's
--    definition, which names the group.
local forced = redis.call('HGET', KEYS[K_OVERRIDES], ARGV[A_USER_ID])
if forced then
  local h = redis.call('HMGET', config, F_FP, F_T0)
  if not h[2] then
    return R_NOT_FOUND
  elseif (h[1] or '') ~= ARGV[A_FP] then
    return R_STALE
  end
  forced = tonumber(forced)
  local g = forced % OVERRIDE_EXPORTED
  if forced < OVERRIDE_EXPORTED then
    local t = redis.call('TIME')
    local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / US_PER_MS))
    local name = redis.call('HGET', config, F_GROUP_NAME .. g)
    if ARGV[A_PLATFORM] ~= '' then
      redis.call('XADD', events, '*', E_TYPE, E_ENROLL, E_USER, ARGV[A_USER_ID], E_GROUP, name,
        E_OVERRIDE, ARG_TRUE, E_PLATFORM, ARGV[A_PLATFORM], E_TS, ms)
    else
      redis.call('XADD', events, '*', E_TYPE, E_ENROLL, E_USER, ARGV[A_USER_ID], E_GROUP, name,
        E_OVERRIDE, ARG_TRUE, E_TS, ms)
    end
    redis.call('HSET', KEYS[K_OVERRIDES], ARGV[A_USER_ID], g + OVERRIDE_EXPORTED)
  end
  return R_OVERRIDE + g
end

-- 1. A member keeps their group whatever the status, the eligibility of
--    today's token or the caps; only a rollout overrides it. A member found
--    is the answer whatever layout the caller assumed, but only for the
--    caller's definition: under another one (an experiment created again
--    with another salt) the caller looked in the wrong bucket and would
--    name the group from the wrong list. A miss is trusted only once the
--    layout is checked too (step 2).
local rec = redis.call('HGET', bucket, user)
for i = older, #KEYS do
  if rec then
    break
  end
  rec = redis.call('HGET', KEYS[i], user)
end
if rec then
  local h = redis.call('HMGET', config, F_WINNER, F_FP)
  if (h[2] or '') ~= ARGV[A_FP] then
    return R_STALE
  end
  local winner = tonumber(h[1] or NO_WINNER)
  if winner ~= NO_WINNER then
    return R_ROLLED_OUT + winner
  end
  return R_EXISTING + tonumber(rec) % MEMBER_GROUPS
end

-- 2. The live configuration.
local c
if layer then
  c = redis.call('HMGET', config, {{ENROLL_FIELDS_IN_LAYER}})
else
  c = redis.call('HMGET', config, {{ENROLL_FIELDS}})
end
local status, max, p, cum, n, winner, t0, li =
  c[C_STATUS], c[C_MAX], c[C_SAMPLING], c[C_CUM], c[C_N], c[C_WINNER], c[C_T0], c[C_LAYER_INDEX]
if not status then
  return R_NOT_FOUND
end
local layout = c[C_BUCKETS]
if c[C_GEN] then
  layout = layout .. ',' .. c[C_GEN]
end
if layout ~= ARGV[A_LAYOUT] or (c[C_FP] or '') ~= ARGV[A_FP] then
  return R_STALE
end
if layer and not li then
  return redis.error_reply('ERR experiment in a layer has no layer index')
end

-- 3. Who may join, and rollout: the winner goes to every eligible user,
--    whatever the status, without being recorded as a member.
if ARGV[A_ELIGIBLE] ~= ARG_TRUE then
  return R_NOT_ELIGIBLE
end
-- A rollout reaches the layer's users owned by no other experiment of it.
if layer then
  local owner = redis.call('HGET', owners, user)
  if owner and owner ~= li then
    return R_NOT_ELIGIBLE
  end
end
winner = tonumber(winner)
if winner ~= NO_WINNER then
  return R_ROLLED_OUT + winner
end
if status ~= STATUS_RUNNING then
  return R_NOT_RUNNING
end
-- The schedule, on Redis's clock, to the second: new members from start_at
-- (inclusive) until end_at (exclusive). Only a scheduled experiment reads
-- the time here; step 6 reuses it.
local t = nil
local sa, ea = c[C_START_AT], c[C_END_AT]
if sa == '' then
  sa = nil
end
if ea == '' then
  ea = nil
end
if sa or ea then
  t = redis.call('TIME')
  local now = tonumber(t[1])
  if (sa and now < tonumber(sa)) or (ea and now >= tonumber(ea)) then
    return R_NOT_RUNNING
  end
end
if layer and redis.call('HGET', layer, L_SLOT .. ARGV[A_SLOT]) ~= li then
  return R_NOT_ELIGIBLE
end

-- 4. Sampling, then the exact cap (the check and the write below are one
--    atomic step, so no concurrency can overshoot it).
if tonumber(ARGV[A_SAMPLE]) >= tonumber(p) then
  return R_NOT_SAMPLED
end
if tonumber(n) >= tonumber(max) then
  return R_SAMPLE_FULL
end

-- 5. The group: the first i with draw < cum[i] (Go twin: assign.ChooseGroup).
local u = tonumber(ARGV[A_GROUP])
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

-- 6. Record the member (seconds since t0 * MEMBER_GROUPS + group: a small
--    integer the listpack stores compactly), count it, and tell the warehouse.
if not t then
  t = redis.call('TIME')
end
local rel = tonumber(t[1]) - tonumber(t0)
if rel < 0 then
  rel = 0
end
redis.call('HSET', bucket, user, rel * MEMBER_GROUPS + group)
if layer then
  redis.call('HSET', owners, user, li)
end
redis.call('HINCRBY', config, F_N, 1)
redis.call('HINCRBY', config, F_COUNT .. group, 1)
local name = redis.call('HGET', config, F_GROUP_NAME .. group)
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / US_PER_MS))
if ARGV[A_PLATFORM] ~= '' then
  redis.call('XADD', events, '*', E_TYPE, E_ENROLL, E_USER, ARGV[A_USER_ID], E_GROUP, name,
    E_PLATFORM, ARGV[A_PLATFORM], E_TS, ms)
else
  redis.call('XADD', events, '*', E_TYPE, E_ENROLL, E_USER, ARGV[A_USER_ID], E_GROUP, name, E_TS, ms)
end

-- 7. Grow: once the members outnumber GROW_AT per bucket over all the
--    generations, open a generation twice as large as all before, for the
--    members to come (those written stay where they are). The newest
--    generation thus fills to about GROW_AT per bucket, well inside the
--    listpack limit of 128, and an experiment far below its cap keeps few
--    sparse buckets. Every caller's next miss sees the new layout (R_STALE).
local total, last, gens = tonumber(c[C_BUCKETS]), tonumber(c[C_BUCKETS]), 1
if c[C_GEN] then
  for s in string.gmatch(c[C_GEN], '[^,]+') do
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
  if c[C_GEN] then
    grown = c[C_GEN] .. ',' .. grown
  end
  redis.call('HSET', config, F_GEN, grown)
end
return R_NEW + group
