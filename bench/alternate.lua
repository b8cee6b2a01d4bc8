-- wrk script: alternate two API keys every PHASE_MS milliseconds of wall time, on every
-- connection at once, and count the responses of each key. Two keys compared this way share
-- the same seconds of a noisy machine, 200 ms apart instead of one run apart.
--
--   KEY_A=... KEY_B=... PHASE_MS=200 wrk -t2 -c32 -d5s -s bench/alternate.lua URL
--
-- Prints "PHASES <requests in A phases> <requests in B phases> <complete phases of each>".
-- A connection sends its next request when the last one is answered, so requests sent count
-- the answers; counting them in request() spares wrk a response() callback, which would copy
-- every answer's headers and body into Lua (and load wrk more for a key with more headers).
-- Only complete phases count (the first and last are partial), the same number of each key.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } rotor_timespec;
int clock_gettime(int clock_id, rotor_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now = ffi.new("rotor_timespec")
local phase_ms = tonumber(os.getenv("PHASE_MS") or "200")

local function phase()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return math.floor((tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6) / phase_ms)
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local requests
counts = {} -- requests sent per phase number, read by done() from every thread

function init(args)
  requests = {
    [0] = wrk.format("GET", nil, { ["x-api-key"] = os.getenv("KEY_A") }),
    [1] = wrk.format("GET", nil, { ["x-api-key"] = os.getenv("KEY_B") }),
  }
end

function request()
  local p = phase()
  counts[p] = (counts[p] or 0) + 1
  return requests[p % 2]
end

function done(summary, latency, requests)
  local total, first, last = {}, math.huge, -math.huge
  for _, thread in ipairs(threads) do
    for p, n in pairs(thread:get("counts")) do
      total[p] = (total[p] or 0) + n
      first, last = math.min(first, p), math.max(last, p)
    end
  end
  first, last = first + 1, last - 1 -- drop the partial phases
  if (last - first + 1) % 2 == 1 then
    last = last - 1 -- as many phases of each key
  end
  local sums = { [0] = 0, [1] = 0 }
  for p = first, last do
    sums[p % 2] = sums[p % 2] + (total[p] or 0)
  end
  io.write(string.format("PHASES %d %d %d\n", sums[0], sums[1], (last - first + 1) / 2))
end
