-- stats.lua - Flux's self-metrics, in Redis (common/stats.c says what is
-- counted). A request adds its counts to the hash of its host and minute,
-- flux.stats.<host>.<minute>, inside a script it runs anyway: the de-dup
-- check-and-set, or the confirm or rollback that ends its claim, so that
-- counting costs no round trip of its own. The Makefile puts this file in
-- front of those scripts (and common/stats.c runs it alone for requests
-- that send no script).
--
-- spec is "field n field n ...", each field's count to add; delivery,
-- when not empty, is the outcome of the request's delivery to carbon
-- ("<unix seconds> ok" or "<unix seconds> failed <why>"), the last one of
-- the minute kept. The hash lives STATS_TTL seconds after its last count:
-- the status page shows the last hour, and flux-batch has an hour more to
-- send a minute to Graphite should its runs have stopped a while.
local STATS_TTL = 7200

local function count_stats(key, spec, delivery)
  local any = false
  for field, n in string.gmatch(spec, '(%S+) (%-?%d+)') do
    redis.call('HINCRBY', key, field, n)
    any = true
  end
  if delivery ~= '' then
    redis.call('HSET', key, 'carbon.last_delivery', delivery)
    any = true
  end
  if any then
    redis.call('EXPIRE', key, STATS_TTL)
  end
end
