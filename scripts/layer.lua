-- layer.lua: the traffic split of a layer of mutually exclusive experiments.
-- scripts.go prepends it to create.lua and update.lua (after the constants of
-- scripts/contract.go), so that a change of an experiment's status and the
-- split of its layer are one atomic step.
--
-- The layer hash {layer:<name>} (see redisstore/keys.go) holds, among others:
--   s<slot>  index of the experiment offered to the users of that slot
--            (slot 0..LAYER_SLOTS-1 from assign.NewLayerDraw); absent: nobody
--   run      indexes of the experiments taking traffic, comma separated, in
--            the order they started
--
-- layer_split(layer, idx, active) adds experiment idx to the experiments
-- taking traffic (active) or removes it, then gives each of them an equal
-- share of the slots (the remainder to the largest holders), moving as few
-- slots as possible: an experiment only ever loses its excess, and only free
-- slots are handed out. So a user's offered experiment changes only when the
-- one offered to them stops taking traffic or must give up part of its share
-- to a newcomer.
-- In chunks: gopher-lua (miniredis) has a small default stack. LAYER_SLOTS
-- is a multiple of LAYER_READ_CHUNK.
local LAYER_READ_CHUNK = 200
local LAYER_WRITE_CHUNK = 400

local function layer_write(cmd, layer, args)
  for i = 1, #args, LAYER_WRITE_CHUNK do
    redis.call(cmd, layer, unpack(args, i, math.min(i + LAYER_WRITE_CHUNK - 1, #args)))
  end
end

local function layer_split(layer, idx, active)
  local run, isrun, count = {}, {}, {}
  for s in string.gmatch(redis.call('HGET', layer, L_RUN) or '', '[^,]+') do
    if s ~= idx then
      run[#run + 1] = s
    end
  end
  if active then
    run[#run + 1] = idx
  end
  for _, e in ipairs(run) do
    isrun[e], count[e] = true, 0
  end
  redis.call('HSET', layer, L_RUN, table.concat(run, ','))

  -- Current owners of the slots, forgetting those no longer taking traffic.
  local names, cur, owner = {}, {}, {}
  for i = 1, LAYER_SLOTS do
    names[i] = L_SLOT .. (i - 1)
  end
  for i = 1, LAYER_SLOTS, LAYER_READ_CHUNK do
    local part = redis.call('HMGET', layer, unpack(names, i, i + LAYER_READ_CHUNK - 1))
    for j = 1, LAYER_READ_CHUNK do
      cur[i + j - 1] = part[j] or false
    end
  end
  for i = 1, LAYER_SLOTS do
    local o = cur[i]
    if o and isrun[o] then
      owner[i], count[o] = o, count[o] + 1
    else
      owner[i] = false
    end
  end

  -- Equal shares; the remainder to the largest holders (fewest moves), ties
  -- to the earliest started.
  local k, target = #run, {}
  if k > 0 then
    local q, r = math.floor(LAYER_SLOTS / k), LAYER_SLOTS % k
    local order = {}
    for i = 1, k do
      order[i] = i
    end
    table.sort(order, function(a, b)
      local ca, cb = count[run[a]], count[run[b]]
      if ca ~= cb then
        return ca > cb
      end
      return a < b
    end)
    for rank, i in ipairs(order) do
      target[run[i]] = q + ((rank <= r) and 1 or 0)
    end
  end
  -- Free the excess from the top slots down, then fill free slots from the
  -- bottom up, in start order.
  for i = LAYER_SLOTS, 1, -1 do
    local o = owner[i]
    if o and count[o] > target[o] then
      owner[i], count[o] = false, count[o] - 1
    end
  end
  local j = 1
  for i = 1, LAYER_SLOTS do
    if not owner[i] then
      while j <= k and count[run[j]] >= target[run[j]] do
        j = j + 1
      end
      if j > k then
        break
      end
      owner[i], count[run[j]] = run[j], count[run[j]] + 1
    end
  end

  local set, del = {}, {}
  for i = 1, LAYER_SLOTS do
    if owner[i] ~= cur[i] then
      if owner[i] then
        set[#set + 1] = names[i]
        set[#set + 1] = owner[i]
      else
        del[#del + 1] = names[i]
      end
    end
  end
  layer_write('HSET', layer, set)
  layer_write('HDEL', layer, del)
end

-- layer_active reports whether an experiment with this status and winner
-- takes layer traffic: running and not rolled out.
local function layer_active(status, winner)
  return status == STATUS_RUNNING and tonumber(winner) == NO_WINNER
end

