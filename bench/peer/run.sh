#!/usr/bin/env bash
# Tollgate beside the oidc-provider npm package (pinned in package.json), same
# machine, same load generator: the peer's client_credentials (JWT and opaque
# in-memory tokens) against Tollgate's client_credentials, contract C login and
# contract B login (opaque tokens Tollgate persists durably).
#
#   bench/peer/run.sh            # BENCH_SECONDS (default 8), BENCH_CONNECTIONS (64)
set -euo pipefail
# The admin listener (127.0.0.1:8081 by default) on a port of its own: a
# benchmark must not collide with a Tollgate already running here.
export TOLLGATE_ADMIN__LISTEN="${TOLLGATE_ADMIN__LISTEN:-127.0.0.1:0}"
cd "$(dirname "$0")"
PEER_DIR="$PWD"
BENCH_DIR="$(cd .. && pwd)"; export BENCH_DIR
SECONDS_PER_RUN="${BENCH_SECONDS:-8}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
command -v wrk >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
npm install --no-audit --no-fund --silent >/dev/null
(cd "$BENCH_DIR/.." && cargo build --release --locked -q -p tollgate)
BIN="${CARGO_TARGET_DIR:-$BENCH_DIR/../target}/release/tollgate"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

wait_up() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

# measure NAME URL [ENV=VALUE...] → appends "NAME|json" to the results
measure() {
  local name=$1 url=$2; shift 2
  local line
  line=$(env "$@" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 5s -s "$BENCH_DIR/wrk/post_json.lua" "$url" | tail -n 1)
  echo "$name|$line" >>"$WORK/results"
}

PEER_AUTH="Basic $(printf 'svc:svc-secret-0123456789abcdef0123456789' | base64 -w0)"
for format in jwt opaque; do
  NODE_ENV=production AT_FORMAT=$format PORT=3555 node "$PEER_DIR/peer.mjs" 2>"$WORK/peer.log" &
  PIDS+=($!)
  wait_up http://127.0.0.1:3555/.well-known/openid-configuration
  measure "oidc-provider client_credentials ($format)" http://127.0.0.1:3555/token \
    "BODY=grant_type=client_credentials" "CONTENT_TYPE=application/x-www-form-urlencoded" "AUTHORIZATION=$PEER_AUTH"
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
done

"$BIN" serve --demo --listen 127.0.0.1:3556 --database "sqlite://$WORK/bench.db" 2>"$WORK/tollgate.log" &
PIDS+=($!)
wait_up http://127.0.0.1:3556/healthz
CLIENT="client_id=986d8167a9b9a15e37db4ab4ad50877b01347a94&client_secret=79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN%2FemwjFCuAfq"
measure "Tollgate client_credentials (HS384 JWT)" http://127.0.0.1:3556/oauth2/token \
  "BODY=grant_type=client_credentials&$CLIENT" "CONTENT_TYPE=application/x-www-form-urlencoded"
measure "Tollgate contract C login (HS384 JWT)" http://127.0.0.1:3556/login \
  'BODY={"accessKey":"986d8167a9b9a15e37db4ab4ad50877b01347a94","secret":"79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq"}'
measure "Tollgate contract B login (opaque, durably persisted)" http://127.0.0.1:3556/api/login \
  'BODY={"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}'

python3 - "$WORK/results" <<'PY'
import json, sys
rows = [line.rstrip("\n").split("|", 1) for line in open(sys.argv[1])]
r = {name: json.loads(data) for name, data in rows}
rate = lambda name: r[name]["ok"] / r[name]["seconds"]
print("| server, scenario | ok req/s | p50 ms | p99 ms | non-2xx |")
print("|---|---:|---:|---:|---:|")
for name, x in r.items():
    print(f"| {name} | {rate(name):,.0f} | {x['p50_ms']:.2f} | {x['p99_ms']:.2f} | {x['non2xx']} |")
jwt = rate("oidc-provider client_credentials (jwt)")
opaque = rate("oidc-provider client_credentials (opaque)")
print()
print(f"Tollgate client_credentials / peer JWT: {rate('Tollgate client_credentials (HS384 JWT)') / jwt:.1f}x (target >= 10x)")
print(f"Tollgate contract C / peer JWT: {rate('Tollgate contract C login (HS384 JWT)') / jwt:.1f}x")
print(f"Tollgate contract B (persisted) / peer opaque (in memory): "
      f"{rate('Tollgate contract B login (opaque, durably persisted)') / opaque:.1f}x (target >= 3x)")
PY
