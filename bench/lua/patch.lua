-- PATCH /users/{id} of a random existing id: a new first name and age (never the email, so no conflicts).
-- wrk ... -s patch.lua URL -- <min id> <max id> <seed>
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local NAMES = { "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus" }
local lo, hi
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  lo = tonumber(args[1]) or 1
  hi = tonumber(args[2]) or 1000
  math.randomseed((tonumber(args[3]) or os.time()) + (thread_id or 0) * 7919)
end

function request()
  local body = string.format('{"first_name":"%s","age":%d}', NAMES[math.random(#NAMES)], math.random(0, 150))
  return wrk.format("PATCH", "/users/" .. math.random(lo, hi), headers, body)
end
