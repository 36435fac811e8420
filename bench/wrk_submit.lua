-- wrk script for the write benchmark (bench/writes.sh): every request POSTs
-- a valid JSON submission of 5 figures for another (authority, quarter),
-- cycling over every authority in BENCH_AUTHS (one code a line) and every
-- ended financial-year quarter in BENCH_PERIODS ("2014-15 Q1" ...), with
-- the admin token in BENCH_TOKEN.  Repeats become new versions, as a
-- council correcting its figures would make.
local codes, periods = {}, {}
local counter = 0
local tid = 0
local thread_no = 0

function setup(thread)
   thread:set("tid", thread_no)
   thread_no = thread_no + 1
end

local function lines(path, out)
   for l in io.lines(path) do
      if #l > 0 then out[#out + 1] = l end
   end
end

function init(args)
   lines(os.getenv("BENCH_AUTHS"), codes)
   lines(os.getenv("BENCH_PERIODS"), periods)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

function request()
   counter = counter + 1
   local a = codes[((counter * 2 + tid) % #codes) + 1]
   local p = periods[((counter * 7 + tid * 3) % #periods) + 1]
   local plans = 100 + counter % 900
   local body = string.format(
      '{"authority":"%s","period":"%s","figures":{"ehcp_caseload":%d,"requests_received":%d,' ..
      '"new_plans_issued":%d,"new_plans_within_20_weeks":%d,"case_officers_fte":%.1f}}',
      a, p, plans * 20, plans + 50, plans, math.floor(plans / 2), 5 + (counter % 100) / 10)
   return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   local errors = e.connect + e.read + e.write + e.timeout
   io.write(string.format("WRK_RESULT req_s=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d non2xx=%d\n",
      summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      summary.requests, errors, e.status))
end
