-- advance.lua - flux.last for flux-batch, run by flux_store_last_advance()
-- in common/store_last.c: set each KEYS[i] (a flux.last.<metric>) to the
-- record ARGV[2i] unless it already holds a timestamp at or past
-- ARGV[2i - 1]. Batch loads may deliver a metric's history out of order,
-- and flux.last only ever moves forward. A key of another type counts as
-- holding nothing.

for i, key in ipairs(KEYS) do
  local ts = tonumber(ARGV[2 * i - 1])
  local held = redis.pcall('GET', key)
  local last = nil
  if type(held) == 'string' then
    last = record_ts(held)
  end
  if last == nil or ts > last then
    redis.call('SET', key, ARGV[2 * i])
  end
end
return 0
