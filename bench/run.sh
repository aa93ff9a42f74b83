#!/usr/bin/env bash
# Tollgate's benchmark: builds the release binary, starts it on SQLite and then
# on PostgreSQL (BENCH_POSTGRES_URL, default the local test database), drives
# every scenario with wrk on 127.0.0.1 for a bounded time, and prints one table
# per backend: requests/s, p50, p99, and the ratio to the same server's
# GET /healthz measured in the same run.
#
# Last, it measures DESIGN.md §6's reference handlers (bench/calibrate: a
# minimal axum app that parses the contract C body, and the same signing an
# HS384 JWT) against that app's own /healthz: the ceiling this machine gives
# any axum service, beside which Tollgate's ratios are read.
#
#   bench/run.sh                       # both backends, 8 s per scenario
#   BENCH_SECONDS=4 BENCH_BACKENDS=sqlite bench/run.sh
#   BENCH_CALIBRATE=0 bench/run.sh     # without the reference handlers
set -euo pipefail
# The admin listener (127.0.0.1:8081 by default) on a port of its own: a
# benchmark must not collide with a Tollgate already running here.
export TOLLGATE_ADMIN__LISTEN="${TOLLGATE_ADMIN__LISTEN:-127.0.0.1:0}"
# Request handling, not log writing: the access log (one line per request,
# on by default) is off here, and its cost measured on its own below.
export TOLLGATE_LOG__ACCESS="${TOLLGATE_LOG__ACCESS:-false}"
cd "$(dirname "$0")/.."
BENCH_DIR="$PWD/bench"; export BENCH_DIR
SECONDS_PER_RUN="${BENCH_SECONDS:-8}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
PG_URL="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
PORT="${BENCH_PORT:-18480}"
BASE="http://127.0.0.1:$PORT"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --locked -q -p tollgate -p tollgate-calibrate
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/tollgate"
CALIBRATE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/tollgate-calibrate"
WORK="$(mktemp -d)"
SERVER_PID=""
PG_SCHEMA=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  # The benchmark leaves nothing behind in the shared database either.
  [ -n "$PG_SCHEMA" ] && psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

C_BODY='{"accessKey":"986d8167a9b9a15e37db4ab4ad50877b01347a94","secret":"79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq"}'
B_JSON='{"Result":null,"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}'
B_XML='<Request><UserLogin>John.Doo</UserLogin><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey></Request>'
A_BODY='{"username":"user","password":"1234"}'
A_WRONG='{"username":"user","password":"wrong"}'
A_UNKNOWN='{"username":"nobody-at-all","password":"wrong"}'
A_FLOOD='{"username":"flood-target","password":"wrong"}'
WRONG_SECRET="79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfX"
C_WRONG="{\"accessKey\":\"986d8167a9b9a15e37db4ab4ad50877b01347a94\",\"secret\":\"$WRONG_SECRET\"}"
CLIENT="client_id=986d8167a9b9a15e37db4ab4ad50877b01347a94&client_secret=79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN%2FemwjFCuAfq"

start_server() { # $1: database URL, or "calibrate" for the reference handlers; then VAR=VALUE...
  local url=$1; shift
  if [ "$url" = calibrate ]; then
    "$CALIBRATE_BIN" "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
  else
    env "$@" "$BIN" serve --demo --listen "127.0.0.1:$PORT" --database "$url" >"$WORK/server.log" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1
}

stop_server() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

# run NAME CONNECTIONS SCRIPT PATH [ENV=VALUE...]: one bounded wrk run → JSON line.
run() {
  local name=$1 connections=$2 script=$3 path=$4; shift 4
  local threads=2; [ "$connections" -lt 2 ] && threads=1
  local line
  line=$(env "$@" wrk -t"$threads" -c"$connections" -d"${SECONDS_PER_RUN}s" --timeout 5s \
           -s "$BENCH_DIR/wrk/$script" "$BASE$path" | tail -n 1)
  echo "$name|$line" >>"$WORK/results"
}

# timing NAME PATH_A BODY_A PATH_B BODY_B: A and B interleaved → JSON line.
timing() {
  local name=$1; shift
  echo "$name|$(python3 "$BENCH_DIR/timing.py" "$BASE" "$SECONDS_PER_RUN" unknown "$1" "$2" known "$3" "$4")" >>"$WORK/timing"
}

table() { # $1: backend
  python3 - "$WORK/results" "$1" <<'PY'
import json, sys
rows = [line.rstrip("\n").split("|", 1) for line in open(sys.argv[1])]
results = {name: json.loads(data) for name, data in rows}
base = results["GET /healthz"]["ok"] / results["GET /healthz"]["seconds"]
print(f"\n{sys.argv[2]}: {len(rows)} scenarios")
print(f"| scenario | ok req/s | p50 ms | p99 ms | non-2xx | ratio to /healthz |")
print(f"|---|---:|---:|---:|---:|---:|")
for name, r in results.items():
    rate = r["ok"] / r["seconds"]
    print(f"| {name} | {rate:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non2xx']} | {rate / base:.0%} |")
PY
}

for backend in $BACKENDS; do
  : >"$WORK/results"
  : >"$WORK/timing"
  case "$backend" in
    sqlite) url="sqlite://$WORK/bench.db" ;;
    postgres)
      schema="bench_$(date +%s)"
      psql "$PG_URL" -qc "CREATE SCHEMA $schema" >/dev/null
      PG_SCHEMA=$schema
      url="$PG_URL?options=-csearch_path%3D$schema" ;;
  esac
  # Contract B's tokens keep their default lifetime (20 s), as users run it;
  # only runs longer than that get a longer one, so that the token the
  # B-verify scenario presents outlives its run.
  if [ "$SECONDS_PER_RUN" -gt 15 ]; then
    export TOLLGATE_APIKEY__TOKEN_TTL="$((SECONDS_PER_RUN + 10))s"
  fi
  start_server "$url"
  A_TOKEN=$(curl -s -X POST "$BASE/v1/login_check" -H 'content-type: application/json' -d "$A_BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  C_TOKEN=$(curl -s -X POST "$BASE/login" -H 'content-type: application/json' -d "$C_BODY")

  run "GET /healthz" "$CONNECTIONS" get.lua /healthz
  run "C: POST /login (JWT)" "$CONNECTIONS" post_json.lua /login "BODY=$C_BODY"
  run "OAuth client_credentials" "$CONNECTIONS" post_json.lua /oauth2/token \
      "BODY=grant_type=client_credentials&$CLIENT" "CONTENT_TYPE=application/x-www-form-urlencoded"
  run "B: POST /api/login JSON" "$CONNECTIONS" post_json.lua /api/login "BODY=$B_JSON"
  run "B: POST /api/login XML" "$CONNECTIONS" post_json.lua /api/login "BODY=$B_XML" "CONTENT_TYPE=application/xml"
  run "verify: A token" "$CONNECTIONS" get.lua /auth/verify "AUTHORIZATION=Bearer $A_TOKEN"
  B_TOKEN=$(curl -s -X POST "$BASE/api/login" -H 'content-type: application/json' -d "$B_JSON" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Token"])')
  run "verify: B token" "$CONNECTIONS" get.lua /auth/verify "AUTHORIZATION=Bearer $B_TOKEN"
  run "verify: C JWT" "$CONNECTIONS" get.lua /auth/verify "AUTHORIZATION=Bearer $C_TOKEN"
  run "OAuth introspection" "$CONNECTIONS" post_json.lua /oauth2/introspect \
      "BODY=token=$C_TOKEN&$CLIENT" "CONTENT_TYPE=application/x-www-form-urlencoded"
  # Forgeries (DESIGN.md §7): refused (401) without a database lookup, so
  # they cost what a cached check costs. (Failed logins come last, on
  # servers of their own: from one address they soon meet §9's limit.)
  run "verify: forged tokens (401)" "$CONNECTIONS" verify_forged.lua /auth/verify REFUSED=1
  # Password logins: one connection gives the time of one argon2id verify;
  # 64 show throughput and load shedding (503s are the non-2xx column).
  run "A: password login, 1 connection" 1 post_json.lua /v1/login_check "BODY=$A_BODY"
  run "A: password login" "$CONNECTIONS" post_json.lua /v1/login_check "BODY=$A_BODY"
  stop_server

  # Abuse protection (DESIGN.md §9), on a server of its own: clients behind
  # a trusted proxy, so that X-Forwarded-For tells their addresses apart.
  # A wrong-password flood from one address (64 connections, at a name of
  # its own) while a legitimate client logs in from another.
  start_server "$url" TOLLGATE_PROTECTION__TRUSTED_PROXIES=127.0.0.1/32
  (run "A flood: wrong passwords from 10.0.0.1" "$CONNECTIONS" post_json.lua /v1/login_check REFUSED=1 \
       "BODY=$A_FLOOD" FORWARDED_FOR=10.0.0.1) &
  flood=$!
  run "A: legitimate logins from 10.0.0.2 during the flood, 4 connections" 4 post_json.lua /v1/login_check \
      "BODY=$A_BODY" FORWARDED_FOR=10.0.0.2
  wait "$flood"
  stop_server
  # Timing classes (DESIGN.md §7, §9): refusals that must not tell an
  # unknown name or key from a known one, interleaved request by request
  # (bench/timing.py) with the limits out of the way.
  start_server "$url" TOLLGATE_PROTECTION__IP_FAILURES=1000000000 TOLLGATE_PROTECTION__LOCKOUT_THRESHOLD=1000000000
  timing "A: unknown name vs known name, wrong password" /v1/login_check \
      '{"username":"nobody-{n}","password":"wrong"}' /v1/login_check "$A_WRONG"
  timing "C: unknown access key vs known key with a wrong secret" /login \
      "{\"accessKey\":\"{hex40}\",\"secret\":\"$WRONG_SECRET\"}" /login "$C_WRONG"
  stop_server
  start_server "$url" TOLLGATE_PROTECTION__IP_FAILURES=1000000000
  for _ in $(seq 1 12); do
    for body in "$A_UNKNOWN" "$A_WRONG"; do
      curl -s -o /dev/null -X POST "$BASE/v1/login_check" -H 'content-type: application/json' -d "$body"
    done
  done
  sleep 1 # a known principal's lock is written in the background
  timing "A: a locked unknown name vs a locked known name" /v1/login_check "$A_UNKNOWN" /v1/login_check "$A_WRONG"
  stop_server
  # What the access log costs (on by default; off in every run above).
  start_server "$url" TOLLGATE_LOG__ACCESS=true
  run "GET /healthz, access log on" "$CONNECTIONS" get.lua /healthz
  run "verify: A token, access log on" "$CONNECTIONS" get.lua /auth/verify "AUTHORIZATION=Bearer $A_TOKEN"
  stop_server
  table "$backend"
  python3 - "$WORK/results" "$WORK/timing" <<'PY'
import json, os, sys
rows = dict(line.rstrip("\n").split("|", 1) for line in open(sys.argv[1]))
one = json.loads(rows["A: password login, 1 connection"])
many = json.loads(rows["A: password login"])
cores = os.cpu_count() or 1
ideal = cores / (one["p50_ms"] / 1000)
rate = many["ok"] / many["seconds"]
print(f"\nA: one argon2id verify ≈ {one['p50_ms']:.1f} ms → ideal {ideal:.0f} logins/s on {cores} cores; "
      f"measured {rate:.0f}/s = {rate / ideal:.0%}, {many['non2xx']} shed with 503, p99 {many['p99_ms']:.1f} ms")
legit = json.loads(rows["A: legitimate logins from 10.0.0.2 during the flood, 4 connections"])
flood = json.loads(rows["A flood: wrong passwords from 10.0.0.1"])
print(f"A under a wrong-password flood from one address: legitimate logins {legit['ok'] / legit['seconds']:.0f}/s, "
      f"p99 {legit['p99_ms']:.1f} ms, {legit['non2xx']} refused; the flood {flood['requests']} requests")
for line in open(sys.argv[2]):
    name, data = line.rstrip("\n").split("|", 1)
    result = json.loads(data)
    a, b = (v for k, v in result.items() if k != "difference")
    print(f"{name}, median (interleaved): {a['median_us']} µs vs {b['median_us']} µs ({result['difference']}); "
          f"p90 {a['p90_us']} vs {b['p90_us']} µs; {a['count']} + {b['count']} requests, statuses {a['statuses']} / {b['statuses']}")
PY
done

if [ "${BENCH_CALIBRATE:-1}" != 0 ]; then
  : >"$WORK/results"
  start_server calibrate
  run "GET /healthz" "$CONNECTIONS" get.lua /healthz
  run "POST JSON body, fixed reply" "$CONNECTIONS" post_json.lua /json "BODY=$C_BODY"
  run "POST JSON body, HS384 JWT (jsonwebtoken)" "$CONNECTIONS" post_json.lua /jwt "BODY=$C_BODY"
  stop_server
  table "reference handlers (bench/calibrate, a minimal axum app; DESIGN.md §6)"
fi
