-- POST /users/ with a unique email per request: a run nonce, the wrk thread and a counter.
-- wrk ... -s post.lua URL -- <nonce>
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local FIRST = { "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus" }
local LAST = { "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth" }
local nonce, counter = "run", 0
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  nonce = args[1] or tostring(os.time())
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"first_name":"%s","last_name":"%s","age":%d,"email":"bench.%s.%d.%d@example.com"}',
    FIRST[counter % #FIRST + 1], LAST[counter % #LAST + 1], 18 + counter % 70, nonce, thread_id or 0, counter)
  return wrk.format("POST", "/users/", headers, body)
end
