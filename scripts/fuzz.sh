#!/usr/bin/env bash
# Fuzzes the wire parsers: each target of fuzz/ (the three contracts' request
# readers, the OAuth 2.0 form and client authentication, the Authorization
# header, JWT verification and signing) runs under libFuzzer for a bounded
# time, starting from and adding to its corpus in fuzz/corpus/<target>/,
# which is then minimized (kept in the repository and replayed by the
# ordinary tests: crates/http/tests/fuzz_corpus.rs).
#
#   scripts/fuzz.sh                 # every target, 60 s each
#   scripts/fuzz.sh 600 jwt_verify  # one target, 10 minutes
#
# Needs the nightly toolchain (rustup toolchain install nightly) and
# cargo-fuzz (installed here if missing). A crash leaves its input in
# fuzz/artifacts/<target>/ and the script exits 1 naming it; replay it with
# `cargo +nightly fuzz run <target> <file>`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

failed=()
for target in "${targets[@]}"; do
  echo "== $target: ${seconds} s"
  # -timeout: one input taking over 5 s is a finding (a parser that can be
  # made slow is a denial of service); -max_len: bodies beyond 64 KiB are
  # refused before parsing anyway.
  if ! cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=5 -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1; then
    failed+=("$target")
    continue
  fi
  cargo +nightly fuzz cmin "$target" "fuzz/corpus/$target" >/dev/null 2>&1 || true
  echo "   corpus: $(find "fuzz/corpus/$target" -type f | wc -l) inputs"
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "findings in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "no findings"
