-- restore.lua: write back one batch of members read from the warehouse,
-- atomically, after Redis lost them. Only a member not already recorded is
-- written and counted, so a rerun (or a batch repeated after an error) never
-- counts anyone twice. No event is written: the warehouse has them already.
--
-- KEYS[1]   configuration hash   <prefix>
-- KEYS[2..] the member buckets the batch touches   <prefix>:m:<bucket>
-- ARGV      4 per member: index in KEYS of its bucket, compact user id
--           (member field), member value ((enrolled unix s - t0)*128 + group
--           index, as enroll.lua writes it), group index
--
-- Returns the number of members written, or -1 when the configuration is
-- missing (nothing is written: members without counters would break the cap).
local config = KEYS[1]
if redis.call('EXISTS', config) == 0 then
  return -1
end
local added = 0
local counts, order = {}, {}
for i = 1, #ARGV, 4 do
  if redis.call('HSETNX', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2]) == 1 then
    added = added + 1
    local g = ARGV[i + 3]
    if not counts[g] then
      counts[g] = 0
      order[#order + 1] = g
    end
    counts[g] = counts[g] + 1
  end
end
if added > 0 then
  redis.call('HINCRBY', config, 'n', added)
  -- In first-seen order, not pairs(): a script's effects stay deterministic.
  for _, g in ipairs(order) do
    redis.call('HINCRBY', config, 'c' .. g, counts[g])
  end
end
return added
