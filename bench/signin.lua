-- P1's load, for wrk (run by `bench/client.py signin-rate`): the sign-in form, as a browser
-- without JavaScript posts it, posted again on each keep-alive connection as soon as it is
-- answered. A client in C leaves the shared machine's CPU to the server: the Python one
-- took a third of a millisecond per sign-in, 2 % of the two cores.
--
-- The form comes from the environment (SIGNIN_BODY, SIGNIN_COOKIE, SIGNIN_ORIGIN). Answers
-- count only when they arrive inside [SIGNIN_FROM, SIGNIN_TO], seconds of CLOCK_MONOTONIC:
-- the clock the Python side samples the server's CPU time by, so both cover one window.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } sesame_bench_timespec;
int clock_gettime(int clock_id, sesame_bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("sesame_bench_timespec")

local function monotonic()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local function required(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set")
  end
  return value
end

wrk.method = "POST"
wrk.body = required("SIGNIN_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = required("SIGNIN_ORIGIN")
wrk.headers["Cookie"] = required("SIGNIN_COOKIE")
wrk.headers["Accept"] = "text/html"
wrk.headers["User-Agent"] = "sesame-bench"

local window_from = tonumber(required("SIGNIN_FROM"))
local window_to = tonumber(required("SIGNIN_TO"))

-- Per wrk thread (each has its own Lua state); `done` adds them up.
signed_in, signed_in_counted, other, other_counted, other_example = 0, 0, 0, 0, ""

function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  local at = monotonic()
  local counted = at >= window_from and at <= window_to
  -- Signed in: the redirect to the account page (as client.py's `signed_in`).
  if (status == 302 or status == 303) and location:sub(1, 8) == "/account" then
    signed_in = signed_in + 1
    if counted then
      signed_in_counted = signed_in_counted + 1
    end
  else
    other = other + 1
    if counted then
      other_counted = other_counted + 1
    end
    if other_example == "" then
      other_example = status .. " " .. (location:gsub("%?.*", ""))
    end
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local totals = { signed_in = 0, signed_in_counted = 0, other = 0, other_counted = 0 }
  local example = ""
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
    if example == "" then
      example = thread:get("other_example")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'SIGNIN {"signed_in": %d, "signed_in_counted": %d, "other": %d, "other_counted": %d, '
      .. '"other_example": "%s", "socket_errors": %d}\n',
    totals.signed_in, totals.signed_in_counted, totals.other, totals.other_counted,
    (example:gsub('[%c"\\]', "?")),
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
