-- wrk script: POST /token with client_credentials and Basic authentication.
-- TESSERA_BENCH_AUTH holds base64(client_id:client_secret).
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("TESSERA_BENCH_AUTH")

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
