-- create.lua: store a new experiment's configuration and open its event
-- stream, unless the experiment exists.
--
-- KEYS[1]  configuration hash   <prefix>
-- KEYS[2]  event stream   <prefix>:events
-- ARGV[1]  stream consumer group of the warehouse exporter
-- ARGV[2]  who created it
-- ARGV[3]  JSON of the experiment, for the config event
-- ARGV[4..] field, value, field, value ... of the configuration hash
--
-- Returns 1 when created, 0 when the configuration already exists.
local config, events = KEYS[1], KEYS[2]
if redis.call('EXISTS', config) == 1 then
  return 0
end
redis.call('HSET', config, unpack(ARGV, 4))
-- The group starts at 0 so the exporter sees every event, even those written
-- before it first runs. A stream left by an earlier failed attempt keeps its group.
if redis.call('EXISTS', events) == 0 then
  redis.call('XGROUP', 'CREATE', events, ARGV[1], '0', 'MKSTREAM')
end
local t = redis.call('TIME')
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
redis.call('XADD', events, '*', 'type', 'config', 'experiment', ARGV[3], 'by', ARGV[2], 'ts', ms)
return 1
