-- wrk script: GET with one header from the environment (TESSERA_BENCH_HEADER =
-- "Name: value"); counts any non-200 answer as a failure.
local name, value = os.getenv("TESSERA_BENCH_HEADER"):match("^([^:]+):%s*(.*)$")
if name then
  wrk.headers[name] = value
end

local failures = 0

response = function(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("bench: requests=%d non2xx=%d errors=%d rps=%.0f p50_us=%d p99_us=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99)))
end
