-- wrk script for tests/load/run.sh: a mixed load of tables, profiles,
-- forecasts and submissions.  Reads the authority codes and the token from
-- files that run.sh writes into LOAD_DIR.  tests/load/warm.py requests every
-- read URL this script can make (keep the two in step).
local dir = os.getenv("LOAD_DIR")
local codes = {}
for line in io.lines(dir .. "/codes") do codes[#codes + 1] = line end
local token = io.open(dir .. "/token"):read("*l")
-- A second admin token approves (the sender may not decide its own).
local approver = io.open(dir .. "/token2"):read("*l")
local quarters = {}
for y = 2016, 2023 do
  for q = 1, 4 do quarters[#quarters + 1] = string.format("%d-%02d Q%d", y, (y + 1) % 100, q) end
end
local metrics = {"ehcp_caseload", "requests_received", "new_plans_issued", "pct_within_20_weeks"}
local counter = 0
local nthreads = tonumber(os.getenv("LOAD_THREADS") or "2")
-- LOAD_WRITE_PCT: share of writes (default 10; 0 for the ceiling run);
-- the rest is split 40:25:25 between tables, profiles and forecasts.
-- LOAD_APPROVE (default 1): each submission awaits approval (sql/041) and
-- changes nothing in force until approved, so half the writes are the
-- approvals of the submissions before them (by another admin token): the
-- writes then change the figures every reader sees.  LOAD_APPROVE=0: all
-- writes are submissions, left awaiting approval.
local wpct = tonumber(os.getenv("LOAD_WRITE_PCT") or "10")
local approve = (os.getenv("LOAD_APPROVE") or "1") ~= "0"
local rscale = (100 - wpct) / 90
-- Submissions of this thread waiting for their approval to be sent.
local to_approve = {}

-- Each thread numbers its submissions apart from the others'.
local thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

local function pick()
  local r = math.random(100)
  local a = codes[math.random(#codes)]
  if r > 100 - wpct then r = 101 else r = r / rscale end
  -- A write: the approval of an earlier submission when one is waiting
  -- (every second write, as submissions and approvals alternate).
  if r == 101 and approve and #to_approve > 0 then
    local id = table.remove(to_approve, 1)
    return wrk.format("POST", "/api/v1/submissions/" .. id .. "/approve",
      {["Authorization"] = "Bearer " .. approver})
  end
  if r <= 40 then
    local m = metrics[math.random(#metrics)]
    local groups = {"", "&group=region&authority=" .. a, "&group=neighbours&authority=" .. a}
    return wrk.format("GET", "/api/v1/tables/" .. m .. "?period=2021" .. groups[math.random(3)])
  elseif r <= 65 then
    return wrk.format("GET", "/api/v1/authorities/" .. a .. "/profile")
  elseif r <= 90.0001 then
    return wrk.format("GET", "/api/v1/forecasts/ehcp_caseload?authority=" .. a)
  else
    counter = counter + 1
    -- Each submission of the run a different (authority, quarter) until
    -- all are used, across threads too: an approval finds its version the
    -- latest (a newer one would make it 409).
    local k = (tid or 1) - 1 + nthreads * counter
    a = codes[k % #codes + 1]
    local q = quarters[math.floor(k / #codes) % #quarters + 1]
    local body = string.format(
      '{"authority":"%s","period":"%s","figures":{"ehcp_caseload":%d,"new_plans_issued":%d,' ..
      '"new_plans_within_20_weeks":%d}}', a, q, 3000 + counter % 500, 100 + counter % 50, 40)
    return wrk.format("POST", "/api/v1/submissions",
      {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
  end
end

init = function(args) math.randomseed(os.time() * 1000 + (tid or 0)) end

request = function() return pick() end

-- The id of each stored submission, for its approval (only with writes:
-- a response function makes wrk hand every reply to Lua).
if wpct > 0 and approve then
  response = function(status, headers, body)
    if status == 201 then
      local id = string.match(body, '"id"%s*:%s*(%d+)')
      if id then to_approve[#to_approve + 1] = id end
    end
  end
end

-- One machine-readable line for run.sh (latencies in microseconds).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "LOAD_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d" ..
    " connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
