-- GET /auth/verify with a random seeded token `benchtoken<i, 22 digits>`, i < $TOKENS,
-- so that the verification cache cannot hide the database.
local n = tonumber(os.getenv("TOKENS"))
math.randomseed(os.time())
request = function()
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer benchtoken" .. string.format("%022d", math.random(0, n - 1)) })
end
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
