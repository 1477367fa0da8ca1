-- wrk script: GET the URL's path (/flux/metric_data), one point per
-- request, each a distinct (metric, minute) so that none is de-duplicated
-- and each lands in its own whisper slot: thread i cycles over
-- FLUX_BENCH_METRICS metrics <FLUX_BENCH_PREFIX>.t<i>.m<j>, and the
-- timestamp moves a minute forward after each cycle, starting at
-- FLUX_BENCH_T0 (in the past). Run with as many threads as connections
-- (-tN -cN): a thread's requests are then strictly sequential, so a
-- metric's timestamps reach flux in increasing order and de-dup (ts <=
-- last is dropped) never discards a point. After FLUX_BENCH_SPAN cycles
-- (default: no limit) a thread starts again at FLUX_BENCH_T0 with new
-- metrics (t<i>g<k>), as bench/post.lua does.
-- bench/report.lua counts the answers and prints the BENCH line.
dofile((os.getenv("FLUX_BENCH_DIR") or "bench") .. "/report.lua")
local key = os.getenv("FLUX_BENCH_KEY")
local prefix = os.getenv("FLUX_BENCH_PREFIX") or "bench.get"
local nmetrics = tonumber(os.getenv("FLUX_BENCH_METRICS") or "100")

local n = 0
request = function()
	local m = n % nmetrics
	local t, ts = minute(math.floor(n / nmetrics))
	n = n + 1
	-- The path is the URL's (wrk.path): bench/clients.sh asks the same
	-- questions of its trivial responder.
	return wrk.format("GET", string.format(
		"%s?metric=%s.%s.m%d&value=%d&timestamp=%d&key=%s",
		wrk.path, prefix, t, m, n, ts, key))
end
