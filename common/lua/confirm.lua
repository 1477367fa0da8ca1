-- confirm.lua - the end of a request's claim, run by flux_store_confirm()
-- in common/store_claim.c once the request's points are delivered or
-- spooled (and, since it no longer changes the client's answer, after the
-- answer has gone): the claim moves from the pending set to the done set
-- with an expiry on Redis's clock, as dedup.lua's deadlines, and the
-- request's counts are added to its minute's self-metrics (stats.lua, in
-- front of this file).
-- KEYS: the pending set, the done set, the hash of this minute's
-- self-metrics. ARGV: the token, how long done lasts in milliseconds, the
-- request's counts and its delivery outcome for count_stats().
--
-- The store sends a confirm again, once, on a new connection when the
-- first one's answer was lost, and that first one may have run: the
-- counts are added only by the run that puts the token in the done set
-- (ZADD answers 1 for a new member), so they are never counted twice.
local PENDING_SET, DONE_SET, STATS = KEYS[1], KEYS[2], KEYS[3]
local token, done_ms, stats_spec, stats_delivery = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', PENDING_SET, token)
if redis.call('ZADD', DONE_SET, now + tonumber(done_ms), token) == 1 then
  count_stats(STATS, stats_spec, stats_delivery)
end
return 0
