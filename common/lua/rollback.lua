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
-- request ends at what it held before the first. The request's counts are
-- added to its minute's self-metrics (stats.lua).

-- KEYS: the pending set, the hash of entries, then the flux.last keys,
-- then the hash of this minute's self-metrics (STATS).
local PENDING_SET, LAST_HASH, FIRST_KEY = KEYS[1], KEYS[2], 3
local STATS, LAST_KEY = KEYS[#KEYS], #KEYS - 1
-- ARGV: the token, then per key the record written (NEW), "1" when the
-- key held a record before (HAD), that record (OLD) and the entry its
-- field held before ('' when none: OLD_ENTRY), then the request's counts
-- and its delivery outcome for count_stats().
local token = ARGV[1]
local FIRST_ARG, ARGS_PER_KEY, NEW, HAD, OLD, OLD_ENTRY = 2, 4, 0, 1, 2, 3
local stats_spec, stats_delivery = ARGV[#ARGV - 1], ARGV[#ARGV]

count_stats(STATS, stats_spec, stats_delivery)
for i = FIRST_KEY, LAST_KEY do
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
