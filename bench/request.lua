-- wrk script: one request shape from the environment, every answer checked.
--   TESSERA_BENCH_METHOD  GET (default) or POST
--   TESSERA_BENCH_HEADER  "Name: value", optional
--   TESSERA_BENCH_BODY    the body, optional; TESSERA_BENCH_CONTENT_TYPE its type
--   TESSERA_BENCH_EXPECT  a string every answer's body must hold, optional
-- Prints one "bench:" line; an answer that is not 200 or lacks the expected
-- string counts in non2xx.
wrk.method = os.getenv("TESSERA_BENCH_METHOD") or "GET"
local name, value = (os.getenv("TESSERA_BENCH_HEADER") or ""):match("^([^:]+):%s*(.*)$")
if name then
  wrk.headers[name] = value
end
local body = os.getenv("TESSERA_BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = os.getenv("TESSERA_BENCH_CONTENT_TYPE") or "application/json"
end
local expect = os.getenv("TESSERA_BENCH_EXPECT")
if expect == "" then
  expect = nil
end

-- Global, so that done() can read each thread's count.
failures = 0
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

response = function(status, headers, body)
  if status ~= 200 or (expect and not body:find(expect, 1, true)) then
    failures = failures + 1
  end
end

done = function(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + (thread:get("failures") or 0)
  end
  io.write(string.format("bench: requests=%d non2xx=%d errors=%d rps=%.0f p50_us=%d p99_us=%d\n",
    summary.requests, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99)))
end
