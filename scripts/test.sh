#!/usr/bin/env bash
# Runs every test: unit tests, the storage suite (SQLite, and PostgreSQL when
# TEST_POSTGRES_URL is set), and the HTTP/CLI suite against a real server on
# SQLite and then on PostgreSQL.
#
#   scripts/test.sh                                   # SQLite only; PostgreSQL reported as skipped
#   TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test scripts/test.sh
#
# With CI=true a missing TEST_POSTGRES_URL is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TEST_POSTGRES_URL:-}" ] && [ "${CI:-}" = "true" ]; then
  echo "CI=true but TEST_POSTGRES_URL is not set: the PostgreSQL tests cannot be skipped in CI" >&2
  exit 1
fi

# The end-to-end gateway test runs a real nginx (Debian's, with auth_request).
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing nginx for the gateway test"
    apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-core >/dev/null
  else
    echo "== nginx missing and cannot be installed here: its test will be skipped (fails in CI)"
  fi
fi

# The admin portal's browser test drives Debian's Chromium (Playwright is told
# where it is; no browser is downloaded).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium for the portal's browser test"
    apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "== chromium missing and cannot be installed here: the portal's browser test will fail"
  fi
fi
export TOLLGATE_TEST_CHROMIUM="${TOLLGATE_TEST_CHROMIUM:-/usr/bin/chromium}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# Independent clients (PyJWT, …) prove the wire formats to someone who is
# not us; they live in a venv of their own, made here.
VENV="${TOLLGATE_TEST_VENV:-$PWD/.venv-test}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/test-requirements.txt
export TOLLGATE_TEST_PYTHON="$VENV/bin/python"

echo "== unit, storage and HTTP tests (SQLite)"
cargo test --workspace --locked

# Every input the fuzzers keep (fuzz/corpus/), through the same entry points:
# a fixed finding stays fixed (scripts/fuzz.sh runs the fuzzers themselves).
echo "== the fuzz corpus, replayed"
cargo test --locked -p tollgate-http --features fuzzing --test fuzz_corpus
"$TOLLGATE_TEST_PYTHON" scripts/check-readme.py "${CARGO_TARGET_DIR:-target}/debug/tollgate"  # the README's examples, run against the debug binary the tests built

if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  echo "== HTTP and CLI tests against PostgreSQL"
  TOLLGATE_TEST_BACKEND=postgres cargo test --locked -p tollgate --test api
else
  echo "== PostgreSQL tests skipped: set TEST_POSTGRES_URL to run them"
fi

# The Debian package end to end (builds the release binary and the .deb,
# installs it, starts it with the packaged configuration, purges it). In CI
# always; elsewhere on request, as it needs root for a real install.
if [ "${CI:-}" = "true" ] || [ "${TOLLGATE_TEST_PACKAGE:-}" = "1" ]; then
  echo "== the Debian package"
  bash scripts/test-package.sh
else
  echo "== Debian package test skipped: CI=true or TOLLGATE_TEST_PACKAGE=1 runs it (scripts/test-package.sh)"
fi
