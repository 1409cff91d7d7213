-- wrk script for W1: POSTs pre-signed Crisp web hooks, cycling through a pool of
-- distinct events (so no contender can answer from a duplicate cache), and prints
-- the figures as one JSON line when done.
--
-- usage: wrk ... -s hooks.lua URL -- POOL_FILE [FIRST]
-- POOL_FILE: one request per line, "timestamp<TAB>signature<TAB>compact JSON body".
-- FIRST: the line to start from (1 unless given), so that a warm-up and the measured
-- run that follows it send different events.

local requests = {}
local n = 0
local i = 0

function init(args)
  local path = wrk.path
  for line in io.lines(args[1]) do
    local ts, sig, body = line:match("^([^\t]+)\t([^\t]+)\t(.+)$")
    if ts then
      n = n + 1
      requests[n] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json; charset=utf-8",
        ["User-Agent"] = "Crisp-HooksDeliver 1.0 (+https://crisp.chat)",
        ["X-Crisp-Request-Timestamp"] = ts,
        ["X-Crisp-Signature"] = sig,
        ["X-Delivery-Attempt-Count"] = "1",
        ["X-Delivery-Attempt-Limit"] = "3",
      }, body)
    end
  end
  if n == 0 then
    error("no requests in " .. tostring(args[1]))
  end
  if args[2] then
    i = (tonumber(args[2]) - 1) % n
  end
end

function request()
  i = i + 1
  if i > n then
    i = 1
  end
  return requests[i]
end

local bad = 0

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"errors": %d, "non2xx": %d}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.timeout,
    summary.errors.status))
end
