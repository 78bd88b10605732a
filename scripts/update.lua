-- update.lua: apply a configuration change computed and validated in Go,
-- if nobody changed the experiment since it was read (compare and set on
-- the version), and tell the warehouse. Members and counters are untouched.
--
-- KEYS[1]  configuration hash   <prefix>
-- KEYS[2]  event stream   <prefix>:events
-- ARGV[1]  the version the change was computed from
-- ARGV[2]  who made the change
-- ARGV[3]  JSON of the new experiment, for the config event
-- ARGV[4..] field, value, field, value ... to set (including the new version)
--
-- Returns 1 when applied, 0 when the version moved (read again and retry),
-- -1 when the experiment does not exist.
local config, events = KEYS[1], KEYS[2]
local ver = redis.call('HGET', config, 'ver')
if not ver then
  return -1
end
if ver ~= ARGV[1] then
  return 0
end
redis.call('HSET', config, unpack(ARGV, 4))
local t = redis.call('TIME')
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
redis.call('XADD', events, '*', 'type', 'config', 'experiment', ARGV[3], 'by', ARGV[2], 'ts', ms)
return 1
