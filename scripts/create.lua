-- create.lua: store a new experiment's configuration and open its event
-- stream, unless the experiment exists. For an experiment in a layer, also
-- give it its index in the layer and, when it takes traffic, its share of the
-- layer's slots (layer_split, from layer.lua, which scripts.go prepends).
--
-- KEYS[1]  configuration hash   <prefix>
-- KEYS[2]  event stream   <prefix>:events
-- KEYS[3]  layer hash   {layer:<name>}   (only for an experiment in a layer)
-- ARGV[1]  stream consumer group of the warehouse exporter
-- ARGV[2]  who created it
-- ARGV[3]  JSON of the experiment, for the config event
-- ARGV[4]  experiment id (recorded in the layer hash; unused outside a layer)
-- ARGV[5]  owner bucket count, kept only by the layer's first experiment
-- ARGV[6..] field, value, field, value ... of the configuration hash
--
-- Returns 1 when created, 0 when the configuration already exists.
local config, events, layer = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', config) == 1 then
  return 0
end
redis.call('HSET', config, unpack(ARGV, 6))
if layer then
  -- A compact index, stored as the owner of each member in the layer's
  -- owner buckets; the owner bucket count is fixed by the first experiment.
  local idx = tostring(redis.call('HINCRBY', layer, 'next', 1))
  redis.call('HSETNX', layer, 'ob', ARGV[5])
  redis.call('HSET', layer, 'e' .. idx, ARGV[4])
  redis.call('HSET', config, 'li', idx, 'ob', redis.call('HGET', layer, 'ob'))
  local c = redis.call('HMGET', config, 'status', 'winner')
  if layer_active(c[1], c[2]) then
    layer_split(layer, idx, true)
  end
end
-- The group starts at 0 so the exporter sees every event, even those written
-- before it first runs. A stream left by an earlier failed attempt keeps its group.
if redis.call('EXISTS', events) == 0 then
  redis.call('XGROUP', 'CREATE', events, ARGV[1], '0', 'MKSTREAM')
end
local t = redis.call('TIME')
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
redis.call('XADD', events, '*', 'type', 'config', 'experiment', ARGV[3], 'by', ARGV[2], 'ts', ms)
return 1
