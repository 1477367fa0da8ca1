-- report.lua - what bench/get.lua and bench/post.lua share: each thread's
-- number ("id"), minute(), a count of its answers, and done(), which
-- prints one line
-- "BENCH ok=<2xx answers> non2xx=<n> errors=<n> connect=<n> read=<n>
-- write=<n> timeout=<n> p50=<ms> p99=<ms> max=<ms> fewest=<answers>
-- most=<answers>": the socket errors by kind, the latency percentiles of
-- every request, and the fewest and most answers a connection got (run
-- with -tN -cN, one connection per thread), the fairness figure.
local threads, counter = {}, 1

-- minute(step): this thread's metric label and timestamp for its step-th
-- minute: t<id> at FLUX_BENCH_T0 + 60 step, and after FLUX_BENCH_SPAN
-- minutes (default: no limit) t<id>g<k> from FLUX_BENCH_T0 again.
local t0 = tonumber(os.getenv("FLUX_BENCH_T0") or "0")
local span = tonumber(os.getenv("FLUX_BENCH_SPAN") or "0")
function minute(step)
	local gen = 0
	if span > 0 then gen, step = math.floor(step / span), step % span end
	return gen == 0 and ("t" .. id) or ("t" .. id .. "g" .. gen), t0 + 60 * step
end

function setup(thread)
	thread:set("id", counter)
	table.insert(threads, thread)
	counter = counter + 1
end

answers = 0
function response(status, headers, body)
	answers = answers + 1
end

function done(summary, latency, requests)
	local e = summary.errors
	local fewest, most = nil, 0
	for _, t in ipairs(threads) do
		local a = t:get("answers") or 0
		if fewest == nil or a < fewest then fewest = a end
		if a > most then most = a end
	end
	io.write(string.format("BENCH ok=%d non2xx=%d errors=%d connect=%d " ..
		"read=%d write=%d timeout=%d p50=%.2f p99=%.2f max=%.2f " ..
		"fewest=%d most=%d\n",
		summary.requests - e.status, e.status,
		e.connect + e.read + e.write + e.timeout,
		e.connect, e.read, e.write, e.timeout,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		latency.max / 1000, fewest or 0, most))
end
