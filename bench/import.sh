#!/usr/bin/env bash
# The bulk import (DESIGN.md §10: "1 M principals import in minutes, not
# hours"): generates a JSON Lines file of IMPORT_PRINCIPALS principals
# [1 000 000], each with its own name and id, a role, an attribute and a
# bcrypt password, then times `tollgate import` (release build) into a fresh
# SQLite database and, when a PostgreSQL URL is given (first argument or
# TEST_POSTGRES_URL), into a fresh schema there. Prints records/s, the wall
# time and the importer's peak resident memory (/usr/bin/time -v): a dry run
# (SQLite), the import, and the same file again (every record unchanged:
# the idempotent re-run).
#
# The bcrypt hashes are a few real ones (the frameworks' published vectors,
# as in crates/legacy/tests/vectors.rs), reused: an import stores a hash as
# given and never computes or verifies one, so their cost changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${IMPORT_PRINCIPALS:-1000000}"
POSTGRES_URL="${1:-${TEST_POSTGRES_URL:-}}"
command -v /usr/bin/time >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
# TOLLGATE_BIN: a binary to time instead of building the release one.
if [ -z "${TOLLGATE_BIN:-}" ]; then cargo build --release --locked -q -p tollgate; fi
TOLLGATE="${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/tollgate}"
WORK="$(mktemp -d "${IMPORT_DIR:-/tmp}/tollgate-import.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK/principals.jsonl" "$COUNT" <<'PY'
import json, sys, uuid
path, count = sys.argv[1], int(sys.argv[2])
hashes = [
    "$2y$04$M8GDODMoGQLQRpkYCdoJh.lbiZPee3SZI32RcYK49XYTolDGwoRMm",
    "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi",
    "$2b$04$6l1Jx/oP3Wsl6y.vEDqNYerEqn7i2TFl7ItIbw9ahtpGZ21mNdCsu",
    "$2y$04$794xksn4pge67SBoZB2P4uHnII4uejITWJLfrLXVRXuCDt5Ps6m/S",
]
with open(path, "w") as out:
    for i in range(count):
        record = {
            "type": "principal",
            "name": f"user-{i:07d}",
            "id": str(uuid.uuid4()),
            "password": {"format": "bcrypt", "hash": hashes[i % len(hashes)]},
            "roles": ["customer"],
            "attributes": {"cid": f"c{i}"},
        }
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
PY
SIZE_MB=$(( $(stat -c %s "$WORK/principals.jsonl") / 1024 / 1024 ))
echo "file: $COUNT principals, $SIZE_MB MiB"

run() { # BACKEND URL PASS [IMPORT FLAGS…]
  local backend=$1 url=$2 pass=$3
  shift 3
  /usr/bin/time -v "$TOLLGATE" --database "$url" import "$WORK/principals.jsonl" --json "$@" \
    >"$WORK/report.json" 2>"$WORK/time.txt" || { cat "$WORK/time.txt"; exit 1; }
  python3 - "$backend" "$pass" "$COUNT" "$WORK/report.json" "$WORK/time.txt" <<'PY'
import json, re, sys
backend, run, count, report_path, time_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
report = json.load(open(report_path))
timing = open(time_path).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", timing).group(1)
seconds = sum(float(part) * 60 ** i for i, part in enumerate(reversed(wall.split(":"))))
peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
cpu = re.search(r"Percent of CPU this job got: (\d+)%", timing).group(1)
p = report["principals"]
assert not report["errors"], report["errors"][:5]
print(f"| {backend} | {run} | {count:,} | {seconds:.1f} | {count / seconds:,.0f} | {peak_kib / 1024:.0f} | {cpu}% "
      f"| {p['created']:,} / {p['updated']:,} / {p['unchanged']:,} |")
PY
}

echo "| backend | run | records | seconds | records/s | peak RSS MiB | CPU | created / updated / unchanged |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
SQLITE="sqlite://$WORK/import.db"
"$TOLLGATE" --database "$SQLITE" migrate >/dev/null
# A dry run first, into the empty database: it keeps what it would create.
run sqlite "$SQLITE" "dry run" --dry-run
run sqlite "$SQLITE" first
run sqlite "$SQLITE" again
echo "| sqlite | database size | $(du -m "$WORK/import.db" | cut -f1) MiB | | | | | |"

if [ -n "$POSTGRES_URL" ]; then
  SCHEMA="import_bench_$$"
  psql -q "$POSTGRES_URL" -c "CREATE SCHEMA $SCHEMA" >/dev/null
  trap 'psql -q "$POSTGRES_URL" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
  case "$POSTGRES_URL" in *\?*) SEP='&' ;; *) SEP='?' ;; esac
  PG="${POSTGRES_URL}${SEP}options=-csearch_path%3D${SCHEMA}"
  "$TOLLGATE" --database "$PG" migrate >/dev/null
  run postgres "$PG" first
  run postgres "$PG" again
fi
