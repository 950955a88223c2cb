-- Used by bench/run.sh: after wrk's own summary, print one machine-readable line in the same shape as
-- FuncGateway.Bench's `load` command. wrk records every latency at 1 µs resolution, so these percentiles are
-- wrk's exact ones. wrk counts as "status" errors only responses with a status of 400 or above.
-- With BENCH_BODY_FILE set (run.sh --validation), every request is a POST of that file as application/json.
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  wrk.headers["Content-Type"] = "application/json"
  f:close()
end

done = function(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_RESULT {"tool":"wrk","requests":%d,"seconds":%.6f,"requests_per_second":%.3f,' ..
    '"p50_us":%d,"p99_us":%d,"mean_us":%.3f,"max_us":%d,"bad_status":%d,"errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
