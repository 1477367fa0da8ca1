-- rollback.lua - a request's points could be neither delivered nor
-- spooled: flux_store_rollback() in common/store_claim.c puts back what its
-- de-dup script (dedup.lua) changed, and ends its claim, so that the
-- client's retry is not discarded and a request waiting on the claim takes
-- the point.
--
-- Each record and each entry (record.lua) that still holds what this
-- request wrote gets back what it held before, or is removed when it held
-- nothing; one that a newer request (or Vista) has moved on is left alone.
-- The keys come newest change first, so a metric taken twice in the
-- request ends at what it held before the first.

-- KEYS: the pending set, the hash of entries, then the flux.last keys.
local PENDING_SET, LAST_HASH, FIRST_KEY = KEYS[1], KEYS[2], 3
-- ARGV: the token, then per key the record written (NEW), "1" when the
-- key held a record before (HAD), that record (OLD) and the entry its
-- field held before ('' when none: OLD_ENTRY).
local token = ARGV[1]
local FIRST_ARG, ARGS_PER_KEY, NEW, HAD, OLD, OLD_ENTRY = 2, 4, 0, 1, 2, 3

for i = FIRST_KEY, #KEYS do
  local key = KEYS[i]
  local a = FIRST_ARG + ARGS_PER_KEY * (i - FIRST_KEY)
  local record = ARGV[a + NEW]
  if redis.pcall('GET', key) == record then
    if ARGV[a + HAD] == '1' then
      redis.call('SET', key, ARGV[a + OLD])
    else
      redis.call('DEL', key)
    end
  end
  local field = field_of(key)
  if entries_call('HGET', LAST_HASH, field) == entry_of(record) then
    if ARGV[a + OLD_ENTRY] ~= '' then
      redis.call('HSET', LAST_HASH, field, ARGV[a + OLD_ENTRY])
    else
      redis.call('HDEL', LAST_HASH, field)
    end
  end
end
redis.call('ZREM', PENDING_SET, token)
return 0
