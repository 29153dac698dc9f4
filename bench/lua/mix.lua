-- 80% reads, 20% writes: 70% GET /users/{id}, 10% GET /users/?limit=100, 10% POST /users/, 10% PATCH /users/{id}.
-- wrk ... -s mix.lua URL -- <min id> <max id> <seed> <nonce>
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local NAMES = { "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus" }
local lo, hi, nonce
local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  lo = tonumber(args[1]) or 1
  hi = tonumber(args[2]) or 1000
  math.randomseed((tonumber(args[3]) or os.time()) + (thread_id or 0) * 7919)
  nonce = args[4] or tostring(os.time())
end

function request()
  local r = math.random(100)
  if r <= 70 then
    return wrk.format("GET", "/users/" .. math.random(lo, hi))
  elseif r <= 80 then
    return wrk.format("GET", "/users/?limit=100")
  elseif r <= 90 then
    counter = counter + 1
    local body = string.format(
      '{"first_name":"%s","last_name":"Mix","age":%d,"email":"mix.%s.%d.%d@example.com"}',
      NAMES[counter % #NAMES + 1], 18 + counter % 70, nonce, thread_id or 0, counter)
    return wrk.format("POST", "/users/", headers, body)
  else
    local body = string.format('{"age":%d}', math.random(0, 150))
    return wrk.format("PATCH", "/users/" .. math.random(lo, hi), headers, body)
  end
end
