-- GET /users/{id} with a uniformly random existing id.
-- wrk ... -s get-by-id.lua URL -- <min id> <max id> <seed>
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

local lo, hi
function init(args)
  lo = tonumber(args[1]) or 1
  hi = tonumber(args[2]) or 1000
  math.randomseed((tonumber(args[3]) or os.time()) + (thread_id or 0) * 7919)
end

function request()
  return wrk.format("GET", "/users/" .. math.random(lo, hi))
end
