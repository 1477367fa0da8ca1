-- wrk script: GET /flux/metric_data, one point per request, each a distinct
-- (metric, minute) so that none is de-duplicated and each lands in its own
-- whisper slot: thread i cycles over FLUX_BENCH_METRICS metrics
-- <FLUX_BENCH_PREFIX>.t<i>.m<j>, and the timestamp moves a minute forward
-- after each cycle, starting at FLUX_BENCH_T0 (in the past). Run with as
-- many threads as connections (-tN -cN): a thread's requests are then
-- strictly sequential, so a metric's timestamps reach flux in increasing
-- order and de-dup (ts <= last is dropped) never discards a point.
-- bench/report.lua counts the answers and prints the BENCH line.
dofile((os.getenv("FLUX_BENCH_DIR") or "bench") .. "/report.lua")
local key = os.getenv("FLUX_BENCH_KEY")
local prefix = os.getenv("FLUX_BENCH_PREFIX") or "bench.get"
local nmetrics = tonumber(os.getenv("FLUX_BENCH_METRICS") or "100")
local t0 = tonumber(os.getenv("FLUX_BENCH_T0"))

local n = 0
request = function()
	local m = n % nmetrics
	local ts = t0 + 60 * math.floor(n / nmetrics)
	n = n + 1
	return wrk.format("GET", string.format(
		"/flux/metric_data?metric=%s.t%d.m%d&value=%d&timestamp=%d&key=%s",
		prefix, id, m, n, ts, key))
end
