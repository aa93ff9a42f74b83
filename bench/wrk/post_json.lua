-- POST the JSON body in $BODY (with Content-Type $CONTENT_TYPE, default JSON).
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
if os.getenv("ACCEPT") then wrk.headers["Accept"] = os.getenv("ACCEPT") end
if os.getenv("AUTHORIZATION") then wrk.headers["Authorization"] = os.getenv("AUTHORIZATION") end
-- A client behind a trusted proxy (protection.trusted_proxies): its address.
if os.getenv("FORWARDED_FOR") then wrk.headers["X-Forwarded-For"] = os.getenv("FORWARDED_FOR") end
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
