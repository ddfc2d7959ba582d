-- wrk script: POST a realistic clue to /api/clues, each request with its own Idempotency-Key
-- (so every request records a new clue), and print the result as one JSON line at the end.
--   wrk -t1 -c16 -d10s -s bench/wrk/post_clue.lua http://127.0.0.1:PORT -- RUN_ID BODIES_FILE [TOKEN ...]
-- BODIES_FILE holds one JSON body per line (bench/clues.py builds and validates them); request n
-- sends body n mod #bodies and, with tokens, token n mod #tokens (one token per simulated client).

local run_id = "run"
local tokens = {}
local counter = 0
thread_no = 0  -- set per thread by setup()
local threads = {}

function setup(thread)
   thread:set("thread_no", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   run_id = args[1] or run_id
   bodies = {}
   for line in io.lines(args[2]) do
      if line ~= "" then bodies[#bodies + 1] = line end
   end
   for i = 3, #args do
      if args[i] ~= "" then tokens[#tokens + 1] = args[i] end
   end
end

function request()
   counter = counter + 1
   local headers = {
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = run_id .. "-" .. thread_no .. "-" .. counter,
   }
   if #tokens > 0 then
      headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
   end
   return wrk.format("POST", "/api/clues", headers, bodies[(counter % #bodies) + 1])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
      '"write_errors":%d,"non_2xx":%d,"timeouts":%d,"latency_us":{"p50":%d,"p90":%d,"p99":%d,' ..
      '"max":%d,"mean":%.1f}}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
