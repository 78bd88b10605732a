-- restore.lua: write back one batch of members read from the warehouse,
-- atomically, after Redis lost them. Only a member not already recorded (in
-- any bucket generation) is written, to the newest generation, and counted,
-- so a rerun (or a batch repeated after an error) never counts anyone twice.
-- No event is written: the warehouse has them already.
--
-- KEYS[1]   configuration hash   <prefix>
-- KEYS[2..] the member buckets the batch touches, of every generation
-- ARGV[1]   the member bucket layout the keys were computed from (buckets[,gen])
-- ARGV[2]   G, the number of generations in it
-- ARGV[3..] G + 3 per member: the indexes in KEYS of its buckets, newest
--           generation first; compact user id (member field); member value
--           ((enrolled unix s - t0)*128 + group index, as enroll.lua writes
--           it); group index
--
-- Returns the number of members written, -1 when the configuration is
-- missing (nothing is written: members without counters would break the
-- cap), or -6 when the layout is stale (nothing is written; the caller
-- reloads it and sends the batch again).
local config = KEYS[1]
local c = redis.call('HMGET', config, 'buckets', 'gen')
if not c[1] then
  return -1
end
local layout = c[1]
if c[2] then
  layout = layout .. ',' .. c[2]
end
if layout ~= ARGV[1] then
  return -6
end
local g = tonumber(ARGV[2])
local added = 0
local counts, order = {}, {}
for i = 3, #ARGV, g + 3 do
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
  redis.call('HINCRBY', config, 'n', added)
  -- In first-seen order, not pairs(): a script's effects stay deterministic.
  for _, group in ipairs(order) do
    redis.call('HINCRBY', config, 'c' .. group, counts[group])
  end
end
return added
