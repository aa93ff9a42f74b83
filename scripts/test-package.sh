#!/usr/bin/env bash
# Tests the Debian package end to end: its contents and control files, the
# unit (systemd-analyze verify and security), a real install (as root, when
# nothing of an earlier tollgate is on the machine; else an extracted copy),
# the maintainer scripts' user, directories and modes, the installed server
# answering /healthz with the packaged configuration, the same server again
# under the unit's system call filter and W^X memory (scripts/confine-like-unit.py),
# and a purge that leaves nothing behind. Everything it starts or creates is
# removed on exit, failure or interrupt included.
#
#   scripts/test-package.sh                 # builds the package first (scripts/package.sh)
#   scripts/test-package.sh PATH.deb        # tests that package
#   TOLLGATE_PACKAGE_TEST_MODE=extract scripts/test-package.sh   # never dpkg -i, even as root
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "  ok    $*"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $*" >&2; }
# check DESCRIPTION COMMAND...: one assertion, counted; never stops the run.
check() {
  local what="$1"
  shift
  if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}
die() {
  echo "FAIL: $*" >&2
  exit 1
}

work="$(mktemp -d /tmp/tollgate-package-test.XXXXXX)"
installed=0
server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
# dpkg waits for no one: if another dpkg or apt holds the lock, try again for a while.
dpkg_retry() {
  local out
  for _ in $(seq 30); do
    if out="$(dpkg "$@" 2>&1)"; then
      printf '%s\n' "$out"
      return 0
    fi
    case "$out" in *lock*) sleep 2 ;; *) printf '%s\n' "$out" >&2; return 1 ;; esac
  done
  printf '%s\n' "$out" >&2
  return 1
}
cleanup() {
  local status=$?
  stop_server
  if [ "$installed" = 1 ]; then
    dpkg_retry --purge tollgate >/dev/null || echo "warning: could not purge the tollgate package; run: dpkg --purge tollgate" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the package ------------------------------------------------------------
if [ $# -ge 1 ]; then
  deb="$1"
else
  echo "== building the package (scripts/package.sh)"
  deb="$(scripts/package.sh | tail -n1)"
fi
[ -f "$deb" ] || die "no package at $deb"
echo "== testing $deb"
version="$(dpkg-deb -f "$deb" Version)"
upstream="${version%-*}"

echo "== contents (dpkg-deb -c)"
dpkg-deb -c "$deb" | awk '{ print $1, $2, $NF }' >"$work/contents"
has() { # MODE OWNER PATH: the archive holds PATH with that mode and owner
  grep -qxF -e "$1 $2 ./$3" "$work/contents"
}
check "binary /usr/bin/tollgate, 0755 root" has -rwxr-xr-x 0/0 usr/bin/tollgate
check "unit /usr/lib/systemd/system/tollgate.service" has -rw-r--r-- 0/0 usr/lib/systemd/system/tollgate.service
check "configuration /etc/tollgate/tollgate.toml, 0640" has -rw-r----- 0/0 etc/tollgate/tollgate.toml
check "man page tollgate(1), gzipped" has -rw-r--r-- 0/0 usr/share/man/man1/tollgate.1.gz
check "man page tollgate-serve(1)" has -rw-r--r-- 0/0 usr/share/man/man1/tollgate-serve.1.gz
check "man page tollgate-principal-add(1)" has -rw-r--r-- 0/0 usr/share/man/man1/tollgate-principal-add.1.gz
check "bash completion" has -rw-r--r-- 0/0 usr/share/bash-completion/completions/tollgate
check "zsh completion" has -rw-r--r-- 0/0 usr/share/zsh/vendor-completions/_tollgate
check "fish completion" has -rw-r--r-- 0/0 usr/share/fish/vendor_completions.d/tollgate.fish
check "copyright" has -rw-r--r-- 0/0 usr/share/doc/tollgate/copyright
check "nothing under /var, /home or /tmp (state is made by the postinst and systemd)" \
  bash -c "! grep -qE ' \./(var|home|tmp)/' '$work/contents'"

echo "== control files (dpkg-deb -I)"
dpkg-deb -I "$deb" >"$work/info"
dpkg-deb -e "$deb" "$work/control"
check "package name tollgate" grep -qx ' Package: tollgate' "$work/info"
check "depends on adduser (the postinst uses it)" grep -qE '^ Depends: .*\badduser\b' "$work/info"
check "conffile /etc/tollgate/tollgate.toml" grep -qx /etc/tollgate/tollgate.toml "$work/control/conffiles"
for script in postinst prerm postrm; do
  check "$script present and executable" test -x "$work/control/$script"
  check "$script is valid sh" sh -n "$work/control/$script"
  check "$script has its #DEBHELPER# token replaced" bash -c "! grep -q '#DEBHELPER#' '$work/control/$script'"
done
check "postinst creates the system user idempotently" \
  grep -qE 'getent passwd tollgate.*|adduser .*--system' "$work/control/postinst"
check "postinst enables the unit only if it was enabled before" \
  grep -q 'deb-systemd-helper debian-installed tollgate.service' "$work/control/postinst"
check "postinst never starts the unit" bash -c "! grep -qE 'deb-systemd-invoke (start|\\\$_dh_action)' '$work/control/postinst'"
check "postinst restarts it on upgrade only if it runs" grep -q 'deb-systemd-invoke try-restart tollgate.service' "$work/control/postinst"
check "postrm removes the user on purge" grep -q 'deluser' "$work/control/postrm"

echo "== extracted copy (dpkg-deb -x)"
root="$work/root"
dpkg-deb -x "$deb" "$root"
check "the binary runs and reports $upstream" bash -c "'$root/usr/bin/tollgate' --version | grep -qx 'tollgate $upstream'"
check "the man page lists every TOLLGATE_ variable" bash -c \
  "zcat '$root/usr/share/man/man1/tollgate.1.gz' | grep -q 'TOLLGATE_JWT__SECRET_FILE'"
check "bash completion parses" bash -n "$root/usr/share/bash-completion/completions/tollgate"
if command -v zsh >/dev/null; then check "zsh completion parses" zsh -n "$root/usr/share/zsh/vendor-completions/_tollgate"; fi
if command -v fish >/dev/null; then check "fish completion parses" fish -n "$root/usr/share/fish/vendor_completions.d/tollgate.fish"; fi

echo "== the unit (systemd-analyze)"
unit="$root/usr/lib/systemd/system/tollgate.service"
if command -v systemd-analyze >/dev/null; then
  # verify resolves ExecStart=, so point a copy at the extracted binary;
  # it exits 0 on warnings (an unknown key), so any output is a failure.
  sed "s#/usr/bin/tollgate#$root/usr/bin/tollgate#" "$unit" >"$work/tollgate.service"
  if verify="$(systemd-analyze verify --man=no "$work/tollgate.service" 2>&1)" && [ -z "$verify" ]; then
    pass "systemd-analyze verify: no errors, no warnings"
  else
    fail "systemd-analyze verify: $verify"
  fi
  # --threshold is ten times the printed exposure: 15 means at most 1.5.
  exposure="$(systemd-analyze security --offline=yes "$unit" 2>&1 | grep -o 'Overall exposure level.*' || true)"
  echo "  $exposure"
  check "systemd-analyze security: exposure at most 1.5" \
    systemd-analyze security --offline=yes --threshold=15 "$unit"
else
  echo "  skipped: systemd-analyze is not installed (Debian package systemd)"
fi

# --- install ---------------------------------------------------------------
mode=extract
if [ "${TOLLGATE_PACKAGE_TEST_MODE:-}" = extract ]; then
  echo "== TOLLGATE_PACKAGE_TEST_MODE=extract: testing the extracted copy, no dpkg -i"
elif [ "$(id -u)" != 0 ]; then
  echo "== not root: testing the extracted copy, no dpkg -i"
elif status="$(dpkg-query -W -f='${db:Status-Status}' tollgate 2>/dev/null)" && [ "$status" != not-installed ]; then
  echo "== a tollgate package is on this machine ($status): leaving it alone, testing the extracted copy"
elif getent passwd tollgate >/dev/null || getent group tollgate >/dev/null; then
  echo "== a tollgate user or group exists already: the purge would delete it, so testing the extracted copy"
else
  mode=install
fi

if [ "$mode" = install ]; then
  echo "== dpkg -i (purged again on exit)"
  installed=1
  dpkg_retry -i "$deb" >"$work/dpkg-install.log" || die "dpkg -i failed: $(cat "$work/dpkg-install.log")"
  bin=/usr/bin/tollgate
  conf=/etc/tollgate/tollgate.toml
  unit=/usr/lib/systemd/system/tollgate.service
  user=tollgate
  group=tollgate
  run_as=(setpriv --reuid=tollgate --regid=tollgate --init-groups --)

  check "installed: binary, unit, configuration, man page, completions" \
    test -x /usr/bin/tollgate -a -f /usr/lib/systemd/system/tollgate.service -a -f /etc/tollgate/tollgate.toml \
    -a -f /usr/share/man/man1/tollgate.1.gz -a -f /usr/share/bash-completion/completions/tollgate
  check "dpkg records /etc/tollgate/tollgate.toml as a conffile" \
    bash -c "dpkg-query -W -f='\${Conffiles}' tollgate | grep -q '/etc/tollgate/tollgate.toml '"
  passwd_entry="$(getent passwd tollgate || true)"
  IFS=: read -r _ _ uid gid _ home shell <<<"$passwd_entry"
  check "system user tollgate (uid ${uid:-none} < 1000)" test -n "$passwd_entry" -a "${uid:-1000}" -lt 1000
  check "its own group tollgate" bash -c "[ \"\$(getent group tollgate | cut -d: -f3)\" = '${gid:-x}' ]"
  check "home /var/lib/tollgate, no login shell ($shell)" \
    bash -c "[ '$home' = /var/lib/tollgate ] && case '$shell' in */nologin|*/false) true;; *) false;; esac"
  modes() { stat -c '%U:%G %a' "$@"; }
  check "/var/lib/tollgate is tollgate:tollgate 0700" bash -c "[ \"\$(stat -c '%U:%G %a' /var/lib/tollgate)\" = 'tollgate:tollgate 700' ]"
  check "/etc/tollgate is root:tollgate 0750" bash -c "[ \"\$(stat -c '%U:%G %a' /etc/tollgate)\" = 'root:tollgate 750' ]"
  check "/etc/tollgate/tollgate.toml is root:tollgate 0640" \
    bash -c "[ \"\$(stat -c '%U:%G %a' /etc/tollgate/tollgate.toml)\" = 'root:tollgate 640' ]"
  check "the unit is installed but not enabled" \
    test ! -e /etc/systemd/system/multi-user.target.wants/tollgate.service
  before="$(modes /var/lib/tollgate /etc/tollgate /etc/tollgate/tollgate.toml; getent passwd tollgate)"
  check "postinst configure runs again cleanly (upgrades do)" \
    /var/lib/dpkg/info/tollgate.postinst configure "$version"
  check "… and changes nothing" bash -c "[ \"\$(stat -c '%U:%G %a' /var/lib/tollgate /etc/tollgate /etc/tollgate/tollgate.toml; getent passwd tollgate)\" = '$before' ]"
  if command -v systemd-analyze >/dev/null; then
    if verify="$(systemd-analyze verify --man=no "$unit" 2>&1)" && [ -z "$verify" ]; then
      pass "systemd-analyze verify of the installed unit"
    else
      fail "systemd-analyze verify of the installed unit: $verify"
    fi
  fi
else
  bin="$root/usr/bin/tollgate"
  conf="$root/etc/tollgate/tollgate.toml"
  if [ "$(id -u)" = 0 ]; then
    # Not as root: SQLite run by root chowns its files, which the unit's
    # filter (no @chown) would refuse; the service never runs as root.
    user=nobody
    group="$(id -gn nobody)"
    chgrp "$group" "$root/etc/tollgate" "$conf"
    chmod 0750 "$root/etc/tollgate"
    run_as=(setpriv --reuid=nobody --regid="$group" --clear-groups --)
  else
    user="$(id -un)"
    group="$(id -gn)"
    run_as=()
  fi
fi

# --- run it ----------------------------------------------------------------
# The service's user must reach its state directory and the helper script.
chmod 0755 "$work"
state="$work/state"
install -d -m 0700 "$state"
[ "$(id -u)" != 0 ] || chown "$user:$group" "$state"
cp scripts/confine-like-unit.py "$work/"
chmod 0755 "$work/confine-like-unit.py"

# start_server LOG COMMAND...: starts it, waits until one of its listeners
# answers /healthz, sets server_pid and addr.
addr=""
start_server() {
  local log="$1"
  shift
  (
    cd "$state"
    umask 0077
    # An admin listener, once there is one, must not take a fixed port here
    # either (other TOLLGATE_ variables are ignored).
    exec env NO_COLOR=1 RUST_LOG=info TOLLGATE_ADMIN__LISTEN=127.0.0.1:0 "$@"
  ) >"$log" 2>&1 &
  server_pid=$!
  addr=""
  for _ in $(seq 150); do
    kill -0 "$server_pid" 2>/dev/null || {
      cat "$log" >&2
      die "the server exited during start-up"
    }
    while read -r candidate; do
      if [ "$(curl -s --max-time 2 "$candidate/healthz")" = '{"status":"ok"}' ]; then
        addr="$candidate"
        return 0
      fi
    done < <(grep -o 'listening on http://[0-9.:]*' "$log" | sed 's#listening on ##')
    sleep 0.2
  done
  cat "$log" >&2
  die "no listener answered /healthz within 30 s"
}
stop_and_check_exit() {
  kill -TERM "$server_pid"
  local code=0
  wait "$server_pid" || code=$?
  server_pid=""
  check "SIGTERM stops it cleanly (exit $code)" test "$code" = 0
}
post() { # PATH BODY: prints the status code, the body to $work/body
  curl -s --max-time 10 -o "$work/body" -w '%{http_code}' -X POST "$addr$1" -H 'Content-Type: application/json' -d "$2"
}

echo "== the packaged binary with the packaged configuration (as $user)"
db="sqlite://$state/plain.db"
start_server "$work/plain.log" "${run_as[@]}" env TOLLGATE_DATABASE_URL="$db" \
  "$bin" --config "$conf" serve --listen 127.0.0.1:0
pass "serve started; /healthz answers at $addr"
check "/readyz says ready" bash -c "[ \"\$(curl -s --max-time 5 '$addr/readyz')\" = '{\"status\":\"ready\"}' ]"
check "the database file is the service's alone (0600)" bash -c "[ \"\$(stat -c '%U %a' '$state/plain.db')\" = '$user 600' ]"
check "the admin CLI works against it with the packaged configuration" bash -c \
  "TOLLGATE_DATABASE_URL='$db' ${run_as[*]} '$bin' --config '$conf' principal list --json | grep -qx '\[\]'"
stop_and_check_exit

echo "== the same under the unit's system call filter, address families and W^X"
if ! /usr/bin/python3 -c 'import seccomp' 2>/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "  installing python3-seccomp (Debian) for the confinement check"
  apt-get install -y -qq --no-install-recommends python3-seccomp >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 || true; apt-get install -y -qq --no-install-recommends python3-seccomp >/dev/null 2>&1 || true; }
fi
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import seccomp' 2>/dev/null; then
  start_server "$work/confined.log" "${run_as[@]}" env TOLLGATE_DATABASE_URL="sqlite://$state/confined.db" \
    /usr/bin/python3 "$work/confine-like-unit.py" "$unit" "$bin" --config "$conf" serve --listen 127.0.0.1:0 --demo
  grep -m1 '^confine-like-unit:' "$work/confined.log" | sed 's/^/  /'
  pass "serve --demo started confined; /healthz answers at $addr"
  code="$(post /v1/login_check '{"username": "user", "password": "1234"}')"
  token="$(sed -n 's/.*"token":"\([a-z0-9]*\)".*/\1/p' "$work/body")"
  check "contract A login (argon2id, a durable token) → 200 ($code)" test "$code" = 200 -a -n "$token"
  code="$(post /api/login '{"Result":null,"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}')"
  check "contract B login (group commit) → 200 ($code)" test "$code" = 200
  code="$(post /login '{"accessKey":"986d8167a9b9a15e37db4ab4ad50877b01347a94","secret":"79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq"}')"
  check "contract C login (HS384 JWT) → 201 ($code)" test "$code" = 201
  code="$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$addr/auth/verify")"
  check "/auth/verify with the contract A token → 200 ($code)" test "$code" = 200
  stop_and_check_exit
else
  echo "  skipped: Debian's python3-seccomp is not available to emulate the filter"
fi

# --- purge -----------------------------------------------------------------
if [ "$mode" = install ]; then
  echo "== dpkg --purge"
  dpkg_retry --purge tollgate >"$work/dpkg-purge.log" || fail "dpkg --purge: $(cat "$work/dpkg-purge.log")"
  installed=0
  check "the package is gone" bash -c "! dpkg-query -W -f='\${db:Status-Status}' tollgate 2>/dev/null | grep -qv not-installed"
  check "the user and group are gone" bash -c "! getent passwd tollgate && ! getent group tollgate"
  check "/var/lib/tollgate and /etc/tollgate are gone" test ! -e /var/lib/tollgate -a ! -e /etc/tollgate
  check "no stat override is left" bash -c "! dpkg-statoverride --list | grep -q tollgate"
  check "no systemd state is left" bash -c "! ls /var/lib/systemd/deb-systemd-helper-*/ 2>/dev/null | grep -q tollgate"
fi

echo "== took $((SECONDS - started)) s"
echo "package: $passed passed, $failed failed"
[ "$failed" = 0 ]
