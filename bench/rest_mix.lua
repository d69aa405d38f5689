-- wrk script of bench/bench_rest.py: rotates requests over the park's points and reports JSON.
--   wrk ... -s bench/rest_mix.lua URL -- KIND UIDS [COOKIE CSRF]
-- KIND "data": JupiCore /data?param_list=... (three parameter mixes); "wbm": WBM live state of one point
-- with the session cookie and the CSRF header. UIDS: comma-separated point ids.
local paths, n, i = {}, 0, 0
local headers = {}
local PARAMS = { "energy,status", "iec_61851_state,pwm_current_a,charge_time_sec", "status,error_status_int,energy,temperature_c" }

function init(args)
  local kind, uids = args[1], args[2]
  for uid in string.gmatch(uids, "[^,]+") do
    n = n + 1
    if kind == "wbm" then
      paths[n] = "/api/wbm/live/" .. uid
    else
      paths[n] = "/api/v1.0/charging-controllers/" .. uid .. "/data?param_list=" .. PARAMS[(n % #PARAMS) + 1]
    end
  end
  if args[3] then
    headers["Cookie"] = "chargepark_session=" .. args[3]
    headers["X-CSRF-Token"] = args[4]
  end
end

function request()
  i = i % n + 1
  return wrk.format("GET", paths[i], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %.3f, "p50_us": %d, "p99_us": %d, "max_us": %d, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
