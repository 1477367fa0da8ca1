-- report.lua - what bench/get.lua and bench/post.lua share: each thread's
-- number ("id"), a count of its answers, and done(), which prints one line
-- "BENCH ok=<2xx answers> non2xx=<n> errors=<n> connect=<n> read=<n>
-- write=<n> timeout=<n> p50=<ms> p99=<ms> max=<ms> fewest=<answers>
-- most=<answers>": the socket errors by kind, the latency percentiles of
-- every request, and the fewest and most answers a connection got (run
-- with -tN -cN, one connection per thread), the fairness figure.
local threads, counter = {}, 1

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
