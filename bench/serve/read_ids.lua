-- wrk script: POST /get-online-features for users drawn from a list (bench/serve_disk.sh).
-- Like read.lua, but each request draws its N_ENT users uniformly from UID_FILE (user
-- ids, one a line) and is built when it is sent, not taken from a pool of 2000 bodies:
-- with a list of millions of users the reads really spread over them (a pool would
-- read 2000 users again and again, all of them cached after the first pass); a list
-- of 1 000 users is a hot set.
-- env: UID_FILE (required), N_ENT (entities per request, default 1), FEATURES
--      (comma-separated names, default: the 32 features of tests/cases/synthetic),
--      SEED (random seed, default 4242; each thread adds its number).
local n_ent = tonumber(os.getenv("N_ENT") or "1")
local uid_file = os.getenv("UID_FILE") or error("UID_FILE (a file of user ids) is required")
local seed = tonumber(os.getenv("SEED") or "4242")
local names = os.getenv("FEATURES") or "txn_count_1h,txn_count_1d,txn_count_7d,txn_count_30d,txn_count_life,amount_count_7d,mobile_count_7d,big_count_1d,amount_sum_1h,amount_sum_7d,amount_sum_life,amount_avg_1d,amount_avg_30d,amount_min_7d,amount_max_1d,amount_max_life,amount_last_1h,amount_last_life,amount_first_7d,category_last_life,category_first_life,mobile_last_1d,category_min_30d,category_distinct_7d,category_distinct_30d,amount_stddev_7d,amount_var_30d,mobile_amount_sum_7d,grocery_amount_avg_30d,nonfood_count_1d,small_mobile_count_30d,desktop_amount_last_7d"
local feats = {}
for n in string.gmatch(names, "[^,]+") do feats[#feats + 1] = '"user_txn:' .. n .. '"' end
local head = '{"features":[' .. table.concat(feats, ",") .. '],"entities":{"user_id":['
local headers = {["Content-Type"] = "application/json"}
-- ids as numbers (8 bytes each: 1e7 users fit; as strings they would take ~50 bytes)
local uids, uid_n = {}, 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  math.randomseed(seed + (tid or 0))
  for line in io.lines(uid_file) do
    local id = tonumber(line)
    if id then uid_n = uid_n + 1; uids[uid_n] = id end
  end
  if uid_n == 0 then error("UID_FILE " .. uid_file .. " has no user ids") end
end
function request()
  local ids = {}
  for j = 1, n_ent do ids[j] = string.format("%d", uids[math.random(1, uid_n)]) end
  return wrk.format("POST", "/get-online-features", headers, head .. table.concat(ids, ",") .. ']}}')
end
function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format("RESULT req=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors_status=%d errors_other=%d\n",
    summary.requests, summary.requests / s,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency:percentile(99.9) / 1e3,
    latency.max / 1e3, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
