-- wrk script of scripts/bench.sh (127.0.0.1 only). Environment:
--   WRK_MODE    get     GET the paths of WRK_PATHS in turn
--               mixed   80% GETs of WRK_PATHS, 20% POSTs of one new trace
--   WRK_PATHS   file with one request path per line
--   WRK_TOKEN   bearer token for writes
--   WRK_PREFIX  action_id prefix (unique per run)
-- done() prints one line: RESULT <json> (rps, latency percentiles, errors).
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local alerts = { "KubePodCrashLooping", "HighMemoryUsage", "PVCAlmostFull", "KubeDeploymentReplicasMismatch" }
local actions = { "restart_pod", "scale_deployment", "increase_resources", "rollback_deployment", "expand_pvc", "notify_only" }
local statuses = { "completed", "completed", "completed", "completed", "completed", "completed", "completed",
  "failed", "failed", "rolled-back" }

local function trace(id, i)
  local app = (i * 7919) % 2000
  return string.format(
    '{"action_id":"%s","action_timestamp":"2026-11-%02dT%02d:%02d:%02dZ","resource":{"namespace":"ns-%02d","kind":"Deployment","name":"app-%05d"},"alert":{"name":"%s","severity":"warning","labels":{"team":"t%d"}},"action_type":"%s","execution_status":"%s","action_parameters":{"replicas":%d},"effectiveness":{"score":0.%d,"method":"automated"}}',
    id, 1 + i % 24, i % 24, i % 60, (i * 7) % 60, app % 50, app, alerts[app % 4 + 1], app % 5,
    actions[i % 6 + 1], statuses[i % 10 + 1], i % 9 + 1, i % 10)
end

function init(args)
  mode = os.getenv("WRK_MODE") or "get"
  token = os.getenv("WRK_TOKEN") or ""
  prefix = (os.getenv("WRK_PREFIX") or "w") .. "-" .. tid .. "-"
  paths = {}
  local f = os.getenv("WRK_PATHS")
  if f and f ~= "" then
    for line in io.lines(f) do
      if line ~= "" then table.insert(paths, line) end
    end
  end
  seq = 0
  math.randomseed(tid * 7919)
  write_headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
end

function request()
  seq = seq + 1
  if mode == "mixed" and math.random() < 0.2 then
    return wrk.format("POST", "/api/v1/context/action-history", write_headers, trace(prefix .. seq, seq + tid * 100003))
  else
    return wrk.format("GET", paths[(seq % #paths) + 1])
  end
end


function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.2f,"rps":%.0f,"p50_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,"non2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000, e.status, e.connect, e.read, e.write, e.timeout))
end
