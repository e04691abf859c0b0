-- wrk script: POST a form body (TESSERA_BENCH_BODY) with Basic authentication
-- (TESSERA_BENCH_AUTH = base64(client_id:client_secret)); counts non-200 answers.
wrk.method = "POST"
wrk.body = os.getenv("TESSERA_BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("TESSERA_BENCH_AUTH")

done = function(summary, latency, requests)
  io.write(string.format("bench: requests=%d non2xx=%d errors=%d rps=%.0f p50_us=%d p99_us=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99)))
end
