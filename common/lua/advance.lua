-- advance.lua - flux.last for flux-batch, run by flux_store_last_advance()
-- in common/store_last.c: each metric's record and entry (record.lua) are
-- set to ARGV's record, and the entry made from it, unless they already
-- hold a timestamp at or past ARGV's. Batch loads may deliver a metric's
-- history out of order, and flux.last only ever moves forward. A key of
-- another type counts as holding nothing, and is replaced.

-- KEYS: the hash of entries, then the flux.last keys; ARGV: per key the
-- timestamp and the record.
local LAST_HASH, FIRST_KEY = KEYS[1], 2

local function holding(reply)
  return type(reply) == 'string' and reply
end

local kind = redis.call('TYPE', LAST_HASH).ok
local hash_usable = kind == 'hash' or kind == 'none'

for i = FIRST_KEY, #KEYS do
  local key = KEYS[i]
  local ts = tonumber(ARGV[2 * (i - FIRST_KEY) + 1])
  local record = ARGV[2 * (i - FIRST_KEY) + 2]
  local field = field_of(key)
  local last = last_ts(holding(redis.pcall('GET', key)),
    holding(entries_call('HGET', LAST_HASH, field)))
  if last == nil or ts > last then
    redis.call('SET', key, record)
    if not hash_usable then
      redis.call('DEL', LAST_HASH)
      hash_usable = true
    end
    redis.call('HSET', LAST_HASH, field, entry_of(record))
  end
end
return 0
