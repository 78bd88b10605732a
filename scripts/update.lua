-- update.lua: apply a configuration change computed and validated in Go,
-- if nobody changed the experiment since it was read (compare and set on
-- the version and on the definition's fingerprint: an experiment created
-- again starts at version 1 too), and tell the warehouse. Members and
-- counters are untouched. For an experiment in a layer, a change of whether
-- it takes traffic (running and not rolled out) re-splits the layer's slots
-- in the same step (layer_split, from layer.lua, which scripts.go prepends,
-- after the constants of scripts/contract.go).
--
-- KEYS[K_CONFIG]  configuration hash   <prefix>
-- KEYS[K_EVENTS]  event stream   <prefix>:events
-- KEYS[K_OVERRIDES]  QA overrides   <prefix>:ovr
-- KEYS[K_LAYER]   layer hash   {layer:<name>}   (only for an experiment in a layer)
-- ARGV[A_VERSION]   the version the change was computed from
-- ARGV[A_FP]        the fingerprint of the definition it was computed from ('' when absent)
-- ARGV[A_BY]        who made the change
-- ARGV[A_EVENT]     JSON of the new experiment, for the config event
-- ARGV[A_OVERRIDES] how many of the last arguments are override changes
-- ARGV[A_CHANNEL]   the namespace's change channel: once the change is applied,
--                   ARGV[A_ID] is published there, in the same atomic step, and
--                   every assignd drops its cached answers of the experiment
-- ARGV[A_ID]        the experiment id
-- ARGV[A_FIELDS..]  field, value, field, value ... to set (including the new version),
--                   then the override changes: user id, group index ('' removes it), ...
--
-- Returns R_APPLIED, R_MOVED when the version or the definition moved (read
-- again and retry), R_NOT_FOUND when the experiment does not exist.
local config, events, layer = KEYS[K_CONFIG], KEYS[K_EVENTS], KEYS[K_LAYER]
local US_PER_MS = 1000
local v = redis.call('HMGET', config, F_VER, F_FP)
if not v[1] then
  return R_NOT_FOUND
end
if v[1] ~= ARGV[A_VERSION] or (v[2] or '') ~= ARGV[A_FP] then
  return R_MOVED
end
local before, idx
if layer then
  local c = redis.call('HMGET', config, F_STATUS, F_WINNER, F_LAYER_INDEX)
  before, idx = layer_active(c[1], c[2]), c[3]
  if not idx then
    -- Checked before any write: a script's writes are never rolled back.
    return redis.error_reply('ERR experiment in a layer has no layer index')
  end
end
local last = #ARGV - tonumber(ARGV[A_OVERRIDES])
redis.call('HSET', config, unpack(ARGV, A_FIELDS, last))
for i = last + 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[K_OVERRIDES], ARGV[i])
  else
    redis.call('HSET', KEYS[K_OVERRIDES], ARGV[i], ARGV[i + 1])
  end
end
if layer then
  local c = redis.call('HMGET', config, F_STATUS, F_WINNER)
  local after = layer_active(c[1], c[2])
  if after ~= before then
    layer_split(layer, idx, after)
  end
end
local t = redis.call('TIME')
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / US_PER_MS))
redis.call('XADD', events, '*', E_TYPE, E_CONFIG, E_EXPERIMENT, ARGV[A_EVENT], E_BY, ARGV[A_BY], E_TS, ms)
redis.call('PUBLISH', ARGV[A_CHANNEL], ARGV[A_ID])
return R_APPLIED
