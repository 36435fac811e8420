-- wrk done() hook shared by every wrk run of bench/run.sh: one machine-
-- readable line with requests/s, latency percentiles (ms) and failures.
-- Loaded with -s for GET runs; bench/wrk_submit.lua defines the same hook.
function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   local errors = e.connect + e.read + e.write + e.timeout
   io.write(string.format("WRK_RESULT req_s=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d non2xx=%d\n",
      summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      summary.requests, errors, e.status))
end
