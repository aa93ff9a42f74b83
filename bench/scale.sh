#!/usr/bin/env bash
# Does cost grow with data? The same traffic against a small database and
# one with 1 M principals and 10 M live tokens (SCALE_PRINCIPALS / SCALE_TOKENS),
# both seeded through the store's schema in bulk. Checks present random tokens
# from the same working set in both (SCALE_WORKING_SET, default 200 000
# distinct tokens: twice the verification cache, so half the checks reach the
# database either way); logins insert into the token table. Reports each p50
# and the server's resident memory (VmRSS, and its peak).
set -euo pipefail
# The admin listener (127.0.0.1:8081 by default) on a port of its own: a
# benchmark must not collide with a Tollgate already running here.
export TOLLGATE_ADMIN__LISTEN="${TOLLGATE_ADMIN__LISTEN:-127.0.0.1:0}"
cd "$(dirname "$0")/.."
BENCH_DIR="$PWD/bench"; export BENCH_DIR
PRINCIPALS="${SCALE_PRINCIPALS:-1000000}"
WORKING_SET="${SCALE_WORKING_SET:-200000}"
TOKENS="${SCALE_TOKENS:-10000000}"
SECONDS_PER_RUN="${BENCH_SECONDS:-8}"
PORT="${BENCH_PORT:-18490}"
command -v wrk >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -q -p tollgate
cargo build --release --locked -q -p tollgate-store --example scale_seed
TARGET="${CARGO_TARGET_DIR:-$PWD/target}/release"
WORK="$(mktemp -d "${SCALE_DIR:-/tmp}/tollgate-scale.XXXXXX")"
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
B_JSON='{"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}'

measure() { # NAME PRINCIPALS TOKENS
  local name=$1 principals=$2 tokens=$3 url="sqlite://$WORK/$1.db"
  "$TARGET/examples/scale_seed" "$url" "$principals" "$tokens"
  "$TARGET/tollgate" serve --demo --listen "127.0.0.1:$PORT" --database "$url" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  local check login
  check=$(TOKENS=$WORKING_SET wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$BENCH_DIR/wrk/verify_random.lua" "http://127.0.0.1:$PORT/auth/verify" | tail -n 1)
  login=$(BODY="$B_JSON" wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$BENCH_DIR/wrk/post_json.lua" "http://127.0.0.1:$PORT/api/login" | tail -n 1)
  local rss hwm
  rss=$(awk '/VmRSS/{print $2}' "/proc/$SERVER_PID/status"); hwm=$(awk '/VmHWM/{print $2}' "/proc/$SERVER_PID/status")
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  echo "$name|$principals|$tokens|$check|$login|$rss|$hwm|$(du -m "$WORK/$name.db" | cut -f1)" >>"$WORK/results"
}

measure small 1000 "$WORKING_SET"
measure large "$PRINCIPALS" "$TOKENS"

python3 - "$WORK/results" <<'PY'
import json, sys
rows = [line.rstrip("\n").split("|") for line in open(sys.argv[1])]
print("| database | principals | live tokens | check p50 ms | check req/s | B login p50 ms | B login req/s | RSS MiB (peak) | db MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
data = {}
for name, principals, tokens, check, login, rss, hwm, size in rows:
    c, l = json.loads(check), json.loads(login)
    data[name] = (c, l)
    print(f"| {name} | {int(principals):,} | {int(tokens):,} | {c['p50_ms']:.2f} | {c['ok']/c['seconds']:,.0f} | "
          f"{l['p50_ms']:.2f} | {l['ok']/l['seconds']:,.0f} | {int(rss)//1024} ({int(hwm)//1024}) | {size} |")
(sc, sl), (lc, ll) = data["small"], data["large"]
print(f"\ncheck p50 large/small: {lc['p50_ms']/sc['p50_ms']:.2f}x, B login p50 large/small: {ll['p50_ms']/sl['p50_ms']:.2f}x (target <= 1.5x)")
PY
