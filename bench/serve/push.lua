-- wrk script: POST /push of ROWS synthetic events per request, times from BASE_US on
-- (after the bootstrapped history, so nothing is late), users uniform in UID_MIN..UID_MAX,
-- drawn from SEED (default 99; the pool of POOL pushes is sent in a cycle).
local rows = tonumber(os.getenv("ROWS") or "1000")
local base = tonumber(os.getenv("BASE_US") or "1800000000000000")
local lo = tonumber(os.getenv("UID_MIN") or "1000")
local hi = tonumber(os.getenv("UID_MAX") or "100999")
local pool_n = tonumber(os.getenv("POOL") or "200")
local cats = {'"grocery"', '"dining"', '"travel"', '"fuel"', '"online"'}
local pool, idx = {}, 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  math.randomseed(tonumber(os.getenv("SEED") or "99") + (tid or 0))
  for p = 1, pool_n do
    local ts, users, amounts, categories, mobile = {}, {}, {}, {}, {}
    for j = 1, rows do
      ts[j] = string.format("%d", base + (p * rows + j) * 1000)
      users[j] = tostring(math.random(lo, hi))
      amounts[j] = string.format("%.2f", math.random() * 200)
      categories[j] = cats[math.random(1, #cats)]
      mobile[j] = (math.random() < 0.4) and "true" or "false"
    end
    local body = '{"push_source_name":"events","df":{"ts":[' .. table.concat(ts, ",") ..
      '],"user_id":[' .. table.concat(users, ",") .. '],"amount":[' .. table.concat(amounts, ",") ..
      '],"category":[' .. table.concat(categories, ",") .. '],"is_mobile":[' .. table.concat(mobile, ",") .. ']}}'
    pool[p] = wrk.format("POST", "/push", {["Content-Type"] = "application/json"}, body)
  end
end
function request()
  idx = idx % pool_n + 1
  return pool[idx]
end
function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format("RESULT req=%d rps=%.1f events_per_s=%.0f p50_ms=%.3f p99_ms=%.3f errors_status=%d\n",
    summary.requests, summary.requests / s, summary.requests * rows / s,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, summary.errors.status))
end
