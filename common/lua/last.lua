-- last.lua - the last timestamps of metrics for flux-batch, read by
-- flux_store_last_get() in common/store_last.c: per metric the newer of
-- its record and its entry (record.lua), or -1 when neither holds one.
-- A key of another type counts as holding nothing. A timestamp past 2^53
-- (no writer's) is read as 2^53, which Redis's integer reply still holds.

-- KEYS: the hash of entries, then the flux.last keys. The reply: one
-- integer per flux.last key.
local LAST_HASH, FIRST_KEY = KEYS[1], 2
local LATEST = 2 ^ 53

local function holding(reply)
  return type(reply) == 'string' and reply
end

local reply = {}
for i = FIRST_KEY, #KEYS do
  local key = KEYS[i]
  local last = last_ts(holding(redis.pcall('GET', key)),
    holding(entries_call('HGET', LAST_HASH, field_of(key))))
  reply[#reply + 1] = last and math.min(last, LATEST) or -1
end
return reply
