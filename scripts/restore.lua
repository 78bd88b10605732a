-- restore.lua: write back one batch of members read from the warehouse,
-- atomically, after Redis lost them. Only a member not already recorded (in
-- any bucket generation) is written, to the newest generation, and counted,
-- so a rerun (or a batch repeated after an error) never counts anyone twice.
-- No event is written: the warehouse has them already. Names in capitals are
-- the constants of scripts/contract.go, prepended to this file.
--
-- KEYS[K_CONFIG]      configuration hash   <prefix>
-- KEYS[K_BUCKETS..]   the member buckets the batch touches, of every generation
-- ARGV[A_FP]          the fingerprint of the caller's definition ('' when absent)
-- ARGV[A_LAYOUT]      the member bucket layout the keys were computed from (buckets[,gen])
-- ARGV[A_GENERATIONS] G, the number of generations in it
-- ARGV[A_MEMBERS..]   G + MEMBER_ARGS per member: the indexes in KEYS of its
--                     buckets, newest generation first; compact user id
--                     (member field); member value ((enrolled unix s - t0) *
--                     MEMBER_GROUPS + group index, as enroll.lua writes it);
--                     group index
--
-- Returns the number of members written, R_NOT_FOUND when the configuration
-- is missing (nothing is written: members without counters would break the
-- cap), or R_STALE when the caller's definition is not Redis's (another
-- fingerprint or layout; nothing is written; the caller reloads it and sends
-- the batch again).
local config = KEYS[K_CONFIG]
local c = redis.call('HMGET', config, F_BUCKETS, F_GEN, F_FP)
if not c[1] then
  return R_NOT_FOUND
end
local layout = c[1]
if c[2] then
  layout = layout .. ',' .. c[2]
end
if layout ~= ARGV[A_LAYOUT] or (c[3] or '') ~= ARGV[A_FP] then
  return R_STALE
end
local g = tonumber(ARGV[A_GENERATIONS])
local added = 0
local counts, order = {}, {}
for i = A_MEMBERS, #ARGV, g + MEMBER_ARGS do
  local user = ARGV[i + g]
  local present = false
  for j = 1, g - 1 do
    if redis.call('HEXISTS', KEYS[tonumber(ARGV[i + j])], user) == 1 then
      present = true
      break
    end
  end
  if not present and redis.call('HSETNX', KEYS[tonumber(ARGV[i])], user, ARGV[i + g + 1]) == 1 then
    added = added + 1
    local group = ARGV[i + g + 2]
    if not counts[group] then
      counts[group] = 0
      order[#order + 1] = group
    end
    counts[group] = counts[group] + 1
  end
end
if added > 0 then
  redis.call('HINCRBY', config, F_N, added)
  -- In first-seen order, not pairs(): a script's effects stay deterministic.
  for _, group in ipairs(order) do
    redis.call('HINCRBY', config, F_COUNT .. group, counts[group])
  end
end
return added
