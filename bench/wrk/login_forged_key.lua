-- POST /login (contract C) with a new random access key each time (40 hex)
-- and the secret in $SECRET: keys nobody was given, to be refused (401)
-- without a database lookup and as fast as a known key with a wrong secret.
local hex = "0123456789abcdef"
math.randomseed(os.time())
request = function()
  local key = {}
  for i = 1, 40 do
    local n = math.random(1, 16)
    key[i] = hex:sub(n, n)
  end
  local body = '{"accessKey":"' .. table.concat(key) .. '","secret":"' .. os.getenv("SECRET") .. '"}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
