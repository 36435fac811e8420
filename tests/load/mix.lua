-- wrk script for tests/load/run.sh: a mixed load of tables, profiles,
-- forecasts and submissions.  Reads the authority codes and the admin token
-- from files that run.sh writes into LOAD_DIR.
local dir = os.getenv("LOAD_DIR")
local codes = {}
for line in io.lines(dir .. "/codes") do codes[#codes + 1] = line end
local token = io.open(dir .. "/token"):read("*l")
local quarters = {}
for y = 2016, 2023 do
  for q = 1, 4 do quarters[#quarters + 1] = string.format("%d-%02d Q%d", y, (y + 1) % 100, q) end
end
local metrics = {"ehcp_caseload", "requests_received", "new_plans_issued", "pct_within_20_weeks"}
local counter = 0
-- LOAD_WRITE_PCT: share of submissions (default 10); the rest is split
-- 40:25:25 between tables, profiles and forecasts.
local wpct = tonumber(os.getenv("LOAD_WRITE_PCT") or "10")
local rscale = (100 - wpct) / 90

-- Share of each kind, out of 100.
local function pick()
  local r = math.random(100)
  local a = codes[math.random(#codes)]
  if r > 100 - wpct then r = 101 else r = r / rscale end
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
    local body = string.format(
      '{"authority":"%s","period":"%s","figures":{"ehcp_caseload":%d,"new_plans_issued":%d,' ..
      '"new_plans_within_20_weeks":%d}}', a, quarters[math.random(#quarters)],
      3000 + counter % 500, 100 + counter % 50, 40)
    return wrk.format("POST", "/api/v1/submissions",
      {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
  end
end

request = function() return pick() end

done = function(summary, latency, requests)
  io.write(string.format("LATENCY_P50_US %d\nLATENCY_P99_US %d\nLATENCY_MAX_US %d\n",
    latency:percentile(50), latency:percentile(99), latency.max))
end
