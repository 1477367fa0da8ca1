-- wrk script: POST /flux/metric_data_post, FLUX_BENCH_BATCH metrics per
-- request (Skyline's documented batch is 450) in the multi form. Thread i
-- owns the metrics <FLUX_BENCH_PREFIX>.t<i>.m<j>, j < batch; its n-th
-- request carries all of them at FLUX_BENCH_T0 + 60 n, so every point is a
-- distinct (metric, minute). Run with -tN -cN (one connection per thread,
-- requests strictly sequential) so de-dup never drops a point. After
-- FLUX_BENCH_SPAN requests (default: no limit) a thread starts again at
-- FLUX_BENCH_T0 with new metrics (t<i>g<k>), so that a connection served
-- far more often than the others never sends points past the window
-- being counted.
-- bench/report.lua counts the answers and prints the BENCH line.
dofile((os.getenv("FLUX_BENCH_DIR") or "bench") .. "/report.lua")
local key = os.getenv("FLUX_BENCH_KEY")
local prefix = os.getenv("FLUX_BENCH_PREFIX") or "bench.post"
local batch = tonumber(os.getenv("FLUX_BENCH_BATCH") or "450")

local n = 0
request = function()
	local t, ts = minute(n)
	local parts = {}
	for j = 0, batch - 1 do
		parts[#parts + 1] = string.format(
			'{"metric":"%s.%s.m%d","timestamp":%d,"value":%d.5}',
			prefix, t, j, ts, n + j)
	end
	n = n + 1
	local body = '{"key":"' .. key .. '","metrics":[' ..
		table.concat(parts, ",") .. ']}'
	return wrk.format("POST", "/flux/metric_data_post",
		{ ["Content-Type"] = "application/json" }, body)
end
