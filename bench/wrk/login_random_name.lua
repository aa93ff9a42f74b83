-- POST /v1/login_check (contract A) with a new random username each time and
-- the password in $PASSWORD: names nobody holds, each failing once (never
-- locked), to time against a known name with a wrong password.
local letters = "abcdefghijklmnopqrstuvwxyz"
math.randomseed(os.time())
request = function()
  local name = {}
  for i = 1, 12 do
    local n = math.random(1, 26)
    name[i] = letters:sub(n, n)
  end
  local body = '{"username":"' .. table.concat(name) .. '","password":"' .. os.getenv("PASSWORD") .. '"}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
