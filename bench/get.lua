-- wrk script: GET metric_data for one of 1000 metrics, timestamp now, so
-- requests run the whole path (validation, Redis check-and-set, carbon).
local key = os.getenv("FLUX_BENCH_KEY")
math.randomseed(os.time())
request = function()
	local path = string.format(
		"/flux/metric_data?metric=bench.cgi.m%d&value=%d&timestamp=%d&key=%s",
		math.random(1, 1000), math.random(1, 100), os.time(), key)
	return wrk.format("GET", path)
end
