-- Shared by every scenario: print one JSON line with what the table needs.
-- Scenarios set `wrk.method`, `wrk.body` and `wrk.headers`, then dofile() this.
-- With REFUSED=1 the scenario expects 4xx answers (forgeries): those count
-- as answered, not as errors.
local refused = os.getenv("REFUSED") == "1"
done = function(summary, latency, requests)
  local failed = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local ok = summary.requests - failed
  if not refused then ok = ok - summary.errors.status end
  io.write(string.format(
    '{"requests":%d,"ok":%d,"non2xx":%d,"seconds":%.3f,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, ok, summary.errors.status, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
