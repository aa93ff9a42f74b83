-- GET, with Authorization $AUTHORIZATION if set.
if os.getenv("AUTHORIZATION") then wrk.headers["Authorization"] = os.getenv("AUTHORIZATION") end
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
