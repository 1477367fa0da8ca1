-- confirm.lua - the end of a request's claim, run by flux_store_confirm()
-- in common/store_claim.c once the request's points are delivered or
-- spooled (and, since it no longer changes the client's answer, after the
-- answer has gone): the claim moves from the pending set to the done set
-- with an expiry on Redis's clock, as dedup.lua's deadlines.
-- KEYS: the pending set, the done set. ARGV: the token, how long done
-- lasts in milliseconds.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return 0
