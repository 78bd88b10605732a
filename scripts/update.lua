-- update.lua: apply a configuration change computed and validated in Go,
-- if nobody changed the experiment since it was read (compare and set on
-- the version), and tell the warehouse. Members and counters are untouched.
-- For an experiment in a layer, a change of whether it takes traffic
-- (running and not rolled out) re-splits the layer's slots in the same step
-- (layer_split, from layer.lua, which scripts.go prepends).
--
-- KEYS[1]  configuration hash   <prefix>
-- KEYS[2]  event stream   <prefix>:events
-- KEYS[3]  layer hash   {layer:<name>}   (only for an experiment in a layer)
-- ARGV[1]  the version the change was computed from
-- ARGV[2]  who made the change
-- ARGV[3]  JSON of the new experiment, for the config event
-- ARGV[4..] field, value, field, value ... to set (including the new version)
--
-- Returns 1 when applied, 0 when the version moved (read again and retry),
-- -1 when the experiment does not exist.
local config, events, layer = KEYS[1], KEYS[2], KEYS[3]
local ver = redis.call('HGET', config, 'ver')
if not ver then
  return -1
end
if ver ~= ARGV[1] then
  return 0
end
local before, idx
if layer then
  local c = redis.call('HMGET', config, 'status', 'winner', 'li')
  before, idx = layer_active(c[1], c[2]), c[3]
  if not idx then
    -- Checked before any write: a script's writes are never rolled back.
    return redis.error_reply('ERR experiment in a layer has no layer index')
  end
end
redis.call('HSET', config, unpack(ARGV, 4))
if layer then
  local c = redis.call('HMGET', config, 'status', 'winner')
  local after = layer_active(c[1], c[2])
  if after ~= before then
    layer_split(layer, idx, after)
  end
end
local t = redis.call('TIME')
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
redis.call('XADD', events, '*', 'type', 'config', 'experiment', ARGV[3], 'by', ARGV[2], 'ts', ms)
return 1
