#!/usr/bin/python3
"""Runs a command under the parts of a systemd unit's confinement that work
without systemd as PID 1, for scripts/test-package.sh: where systemd cannot
start the unit (a container), this still proves the service lives with its
system call filter, address families and W^X memory.

    confine-like-unit.py UNIT_FILE COMMAND [ARG...]

Taken from the unit file itself, so the check follows the unit as it changes:
SystemCallFilter= (allow-list, then ~ removals, groups expanded by
`systemd-analyze syscall-filter`), SystemCallErrorNumber=,
SystemCallArchitectures=native (the filter matches the native ABI only),
RestrictAddressFamilies= (on socket()), MemoryDenyWriteExecute= (the
kernel's PR_SET_MDWE, which systemd uses too where the kernel has it) and
NoNewPrivileges= (seccomp needs it anyway). Mount and namespace options are
not emulated. Needs Debian's python3-seccomp; exits 77 when it is missing.
"""

import ctypes
import errno
import os
import socket
import subprocess
import sys

try:
    import seccomp
except ImportError:
    print("confine-like-unit: python3-seccomp is not installed", file=sys.stderr)
    sys.exit(77)


def unit_settings(path):
    """Every `Key=value` of the [Service] section, in order (keys repeat)."""
    settings = []
    section = None
    with open(path, encoding="utf-8") as unit:
        for raw in unit:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]" and "=" in line:
                key, value = line.split("=", 1)
                settings.append((key.strip(), value.strip()))
    return settings


def expand(name, seen=None):
    """A syscall name, or every syscall of a @group, recursively."""
    if not name.startswith("@"):
        return {name}
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    listing = subprocess.run(
        ["systemd-analyze", "syscall-filter", name], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    calls = set()
    for line in listing[1:]:  # the first line names the group itself
        entry = line.strip()
        if entry and not entry.startswith("#"):
            calls |= expand(entry, seen)
    return calls


def allowed_syscalls(settings):
    allowed = None
    for key, value in settings:
        if key != "SystemCallFilter" or not value:
            continue
        deny = value.startswith("~")
        names = set()
        for word in value.lstrip("~").split():
            names |= expand(word)
        if deny:
            if allowed is None:
                sys.exit("confine-like-unit: a deny-list filter is not emulated")
            allowed -= names
        else:
            allowed = names if allowed is None else allowed | names
    return allowed


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    unit, command = sys.argv[1], sys.argv[2:]
    settings = unit_settings(unit)
    value = {key: val for key, val in settings}

    allowed = allowed_syscalls(settings)
    if allowed is None:
        sys.exit("confine-like-unit: the unit has no SystemCallFilter=")
    error = getattr(errno, value.get("SystemCallErrorNumber", ""), None)
    default = seccomp.ERRNO(error) if error else seccomp.KILL_PROCESS
    families = [getattr(socket, f) for f in value.get("RestrictAddressFamilies", "").split()]

    # The filter matches this ABI only: anything else (say, the i386 entry
    # points) takes the default action, as SystemCallArchitectures=native.
    rules = seccomp.SyscallFilter(defaction=default)
    unknown = []
    for name in sorted(allowed):
        if name == "socket" and families:
            continue
        try:
            rules.add_rule(seccomp.ALLOW, name)
        except (RuntimeError, ValueError, OSError):
            unknown.append(name)  # not a syscall on this architecture
    for family in families:
        rules.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, family))

    mdwe = value.get("MemoryDenyWriteExecute") in ("yes", "true", "1")
    if mdwe:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_mdwe, pr_mdwe_refuse_exec_gain = 65, 1
        if libc.prctl(pr_set_mdwe, pr_mdwe_refuse_exec_gain, 0, 0, 0) != 0:
            sys.exit(f"confine-like-unit: PR_SET_MDWE failed: {os.strerror(ctypes.get_errno())}")

    # libseccomp sets no_new_privs before loading (NoNewPrivileges=yes).
    rules.load()
    print(
        f"confine-like-unit: {len(allowed) - len(unknown)} syscalls allowed, default "
        f"{'errno ' + value['SystemCallErrorNumber'] if error else 'kill'}, socket families "
        f"{value.get('RestrictAddressFamilies', 'any')}, W^X {'on' if mdwe else 'off'}",
        file=sys.stderr,
    )
    os.execvp(command[0], command)


main()
