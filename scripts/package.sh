#!/usr/bin/env bash
# Builds Tollgate's Debian package from a clean clone: the release binary,
# the man pages and shell completions generated from the clap definition,
# then `cargo deb` (installed first if missing). The .deb's path is the last
# line on stdout; everything else goes to stderr.
#
#   scripts/package.sh        # → $CARGO_TARGET_DIR (or target)/debian/tollgate_<version>-1_<arch>.deb
#   sudo dpkg -i "$(scripts/package.sh | tail -n1)"
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo-deb 3 is what [package.metadata.deb] is written for (units under
# /usr/lib/systemd/system, man pages gzipped by it).
CARGO_DEB_VERSION="^3"
if ! cargo deb --version 2>/dev/null | grep -q '^cargo-deb 3\.'; then
  echo "== installing cargo-deb: cargo install cargo-deb --locked --version '$CARGO_DEB_VERSION'" >&2
  cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION" >&2
fi

echo "== building the release binary" >&2
cargo build --release --locked -p tollgate --bin tollgate >&2

# Regenerated every time, from scratch, so a removed subcommand leaves no
# stale page behind. The generator runs in the dev profile: the tests build
# the examples there anyway, and a release build of it would recompile much
# of the tree with the test dependencies' features.
echo "== generating the man pages and shell completions" >&2
rm -rf packaging/generated
cargo run --locked -q -p tollgate --example generate-assets -- packaging/generated >&2

echo "== cargo deb" >&2
# Symbols go to a -dbgsym.ddeb beside the .deb: the binary shrinks to a
# fraction, and a crash can still be symbolized by installing both.
deb_output="$(cargo deb --locked -p tollgate --no-build --dbgsym --compress-debug-symbols=zlib)"
echo "$deb_output" >&2
deb="$(printf '%s\n' "$deb_output" | grep '\.deb$' | tail -n1)"
if [ ! -f "$deb" ]; then
  echo "cargo deb did not report a .deb file" >&2
  exit 1
fi
echo "$deb"
