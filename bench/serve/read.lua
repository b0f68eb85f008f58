-- wrk script: POST /get-online-features for random users of the synthetic case.
-- env: N_ENT (entities per request, default 1), FEATURES (comma-separated names,
--      default: the 32 features of tests/cases/synthetic), UID_MIN/UID_MAX (user id
--      range, default 1000..100999: gen.py's ids for 1e7 events), POOL (pre-built
--      bodies per thread, default 2000).
local n_ent = tonumber(os.getenv("N_ENT") or "1")
local lo = tonumber(os.getenv("UID_MIN") or "1000")
local hi = tonumber(os.getenv("UID_MAX") or "100999")
local pool_n = tonumber(os.getenv("POOL") or "2000")
local names = os.getenv("FEATURES") or "txn_count_1h,txn_count_1d,txn_count_7d,txn_count_30d,txn_count_life,amount_count_7d,mobile_count_7d,big_count_1d,amount_sum_1h,amount_sum_7d,amount_sum_life,amount_avg_1d,amount_avg_30d,amount_min_7d,amount_max_1d,amount_max_life,amount_last_1h,amount_last_life,amount_first_7d,category_last_life,category_first_life,mobile_last_1d,category_min_30d,category_distinct_7d,category_distinct_30d,amount_stddev_7d,amount_var_30d,mobile_amount_sum_7d,grocery_amount_avg_30d,nonfood_count_1d,small_mobile_count_30d,desktop_amount_last_7d"
local feats = {}
for n in string.gmatch(names, "[^,]+") do feats[#feats + 1] = '"user_txn:' .. n .. '"' end
local fstr = table.concat(feats, ",")
local pool, idx = {}, 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  math.randomseed(4242 + (tid or 0))
  for p = 1, pool_n do
    local ids = {}
    for j = 1, n_ent do ids[j] = tostring(math.random(lo, hi)) end
    local body = '{"features":[' .. fstr .. '],"entities":{"user_id":[' .. table.concat(ids, ",") .. ']}}'
    pool[p] = wrk.format("POST", "/get-online-features", {["Content-Type"] = "application/json"}, body)
  end
end
function request()
  idx = idx % pool_n + 1
  return pool[idx]
end
function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format("RESULT req=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors_status=%d errors_other=%d\n",
    summary.requests, summary.requests / s,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency:percentile(99.9) / 1e3,
    latency.max / 1e3, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
