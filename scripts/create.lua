-- create.lua: store a new experiment's configuration and open its event
-- stream, unless the experiment exists. For an experiment in a layer, also
-- give it its index in the layer and, when it takes traffic, its share of the
-- layer's slots (layer_split, from layer.lua, which scripts.go prepends, after
-- the constants of scripts/contract.go).
--
-- KEYS[K_CONFIG]  configuration hash   <prefix>
-- KEYS[K_EVENTS]  event stream   <prefix>:events
-- KEYS[K_OVERRIDES]  QA overrides   <prefix>:ovr
-- KEYS[K_LAYER]   layer hash   {layer:<name>}   (only for an experiment in a layer)
-- ARGV[A_CONSUMER_GROUP]  stream consumer group of the warehouse exporter
-- ARGV[A_BY]              who created it
-- ARGV[A_EVENT]           JSON of the experiment, for the config event
-- ARGV[A_ID]              experiment id (recorded in the layer hash; unused outside a layer)
-- ARGV[A_OWNER_BUCKETS]   owner bucket count, kept only by the layer's first experiment
-- ARGV[A_FP]              the fingerprint the fields hold (F_FP)
-- ARGV[A_OVERRIDES]       how many of the last arguments are overrides
-- ARGV[A_CHANNEL]         the namespace's change channel: ARGV[A_ID] is published
--                         there once created (every assignd drops what it cached
--                         of an experiment of this id that was lost)
-- ARGV[A_FIELDS..]        field, value, field, value ... of the configuration hash,
--                         then the overrides: user id, group index, ...
--
-- Returns R_CREATED; R_SAME when the configuration exists with this very
-- fingerprint (a replay of this call: a creation's salt is new each time, so
-- only the same call writes the same one; a restore writes the definition it
-- had); R_EXISTS when another configuration holds the id.
local config, events, layer = KEYS[K_CONFIG], KEYS[K_EVENTS], KEYS[K_LAYER]
local US_PER_MS = 1000
if redis.call('EXISTS', config) == 1 then
  if redis.call('HGET', config, F_FP) == ARGV[A_FP] then
    return R_SAME
  end
  return R_EXISTS
end
local last = #ARGV - tonumber(ARGV[A_OVERRIDES])
redis.call('HSET', config, unpack(ARGV, A_FIELDS, last))
-- Overrides left by an experiment of this id that lost its configuration
-- are not this one's.
redis.call('DEL', KEYS[K_OVERRIDES])
if last < #ARGV then
  redis.call('HSET', KEYS[K_OVERRIDES], unpack(ARGV, last + 1))
end
if layer then
  -- A compact index, stored as the owner of each member in the layer's
  -- owner buckets; the owner bucket count is fixed by the first experiment.
  local idx = tostring(redis.call('HINCRBY', layer, L_NEXT, 1))
  redis.call('HSETNX', layer, L_OWNER_BUCKETS, ARGV[A_OWNER_BUCKETS])
  redis.call('HSET', layer, L_EXPERIMENT .. idx, ARGV[A_ID])
  redis.call('HSET', config, F_LAYER_INDEX, idx, F_OWNER_BUCKETS, redis.call('HGET', layer, L_OWNER_BUCKETS))
  local c = redis.call('HMGET', config, F_STATUS, F_WINNER)
  if layer_active(c[1], c[2]) then
    layer_split(layer, idx, true)
  end
end
-- The group starts at 0 so the exporter sees every event, even those written
-- before it first runs. A stream left by an earlier failed attempt keeps its group.
if redis.call('EXISTS', events) == 0 then
  redis.call('XGROUP', 'CREATE', events, ARGV[A_CONSUMER_GROUP], '0', 'MKSTREAM')
end
local t = redis.call('TIME')
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / US_PER_MS))
redis.call('XADD', events, '*', E_TYPE, E_CONFIG, E_EXPERIMENT, ARGV[A_EVENT], E_BY, ARGV[A_BY], E_TS, ms)
redis.call('PUBLISH', ARGV[A_CHANNEL], ARGV[A_ID])
return R_CREATED
