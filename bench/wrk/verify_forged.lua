-- GET /auth/verify with a new random token each time, shaped like a contract
-- A token (32 × [a-z0-9]): a flood of forgeries, to be refused (401)
-- without a database lookup.
local alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
math.randomseed(os.time())
request = function()
  local token = {}
  for i = 1, 32 do
    local n = math.random(1, 36)
    token[i] = alphabet:sub(n, n)
  end
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. table.concat(token) })
end
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
