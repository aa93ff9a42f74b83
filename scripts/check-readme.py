#!/usr/bin/env python3
"""Runs the README's examples against a real `tollgate serve --demo` and
checks that what they print matches what the README shows.

    scripts/check-readme.py [TOLLGATE_BIN]      # or TOLLGATE_BIN=... scripts/check-readme.py

A checked example is a ```sh block right after a `<!-- check -->` line. Each
runs in bash (`set -eo pipefail`) in a scratch directory holding the
server's tollgate.toml, with the binary's directory first on PATH, so its
`tollgate` commands see the demo's database. The README's addresses
127.0.0.1:8080 and 127.0.0.1:8081 become the server's free ports.

Under a command, `# ...` lines are its expected output (a `#` line after a
blank line or at the top of a block is a comment). They must appear in the
output (stdout and stderr together) in order, each matching one whole line,
`…` matching anything; other output lines in between are allowed, since
the README leaves out headers and the like. Standard library only.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- check -->"
MAIN, ADMIN = "127.0.0.1:8080", "127.0.0.1:8081"


class Block:
    def __init__(self, line, code, expected):
        self.line = line  # the README line of the opening fence
        self.code = code
        self.expected = expected  # (README line, pattern text)


def checked_blocks(text):
    lines = text.split("\n")
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        fence = index + 1
        while fence < len(lines) and not lines[fence].strip():
            fence += 1
        if fence >= len(lines) or lines[fence].strip() != "```sh":
            sys.exit(f"README.md line {index + 1}: {MARKER} is not followed by a ```sh block")
        body, end = [], fence + 1
        while end < len(lines) and lines[end].strip() != "```":
            body.append((end + 1, lines[end]))
            end += 1
        if end >= len(lines):
            sys.exit(f"README.md line {fence + 1}: the ```sh block is never closed")
        code, expected, previous = [], [], "blank"
        for number, raw in body:
            stripped = raw.strip()
            if not stripped:
                previous = "blank"
            elif stripped.startswith("#"):
                # Output only directly under a command (or more output).
                if previous in ("code", "output"):
                    expected.append((number, stripped[2:] if stripped.startswith("# ") else stripped[1:]))
                    previous = "output"
                else:
                    previous = "comment"
                continue
            else:
                previous = "code"
            code.append(raw)
        blocks.append(Block(fence + 1, "\n".join(code), expected))
    return blocks


def pattern(text):
    return re.compile(".*".join(re.escape(part) for part in text.split("…")))


def unmatched(expected, output):
    """The first expected line not found, in order, in `output`; None if all are."""
    actual = [line.rstrip("\r") for line in output.split("\n")]
    position = 0
    for number, text in expected:
        wanted = pattern(text)
        while position < len(actual) and not wanted.fullmatch(actual[position]):
            position += 1
        if position == len(actual):
            return number, text
        position += 1
    return None


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(server, url, log):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            fail(f"the server exited ({server.returncode}) before answering {url}", log.read_text())
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    fail(f"no answer from {url} within 60 s", log.read_text())


def fail(message, detail=""):
    print(f"check-readme: {message}", file=sys.stderr)
    if detail:
        print(detail.rstrip(), file=sys.stderr)
    sys.exit(1)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TOLLGATE_BIN", "")
    if not binary:
        sys.exit("usage: check-readme.py TOLLGATE_BIN (or set TOLLGATE_BIN)")
    binary = Path(binary).resolve()
    if not os.access(binary, os.X_OK):
        sys.exit(f"check-readme: {binary} is not an executable")
    if binary.name != "tollgate":
        sys.exit(f"check-readme: the examples call `tollgate`; {binary} has another name")
    for tool in ("bash", "curl", "python3"):
        if shutil.which(tool) is None:
            sys.exit(f"check-readme: the examples need {tool}")
    blocks = checked_blocks(README.read_text())
    if not blocks:
        fail(f"README.md has no {MARKER} examples")

    main_addr, admin_addr = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    scratch = Path(tempfile.mkdtemp(prefix="tollgate-readme-"))
    # The examples' environment is an operator's: no variable of the
    # caller's (a test suite's TOLLGATE_…) may change what they print.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_") and k != "RUST_LOG"}
    env["PATH"] = f"{binary.parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    (scratch / "tollgate.toml").write_text(
        f'listen = "{main_addr}"\ndatabase_url = "sqlite://{scratch}/tollgate.db"\n\n'
        f'[admin]\nlisten = "{admin_addr}"\n'
    )
    log = scratch / "server.log"
    with open(log, "w") as log_file:
        server = subprocess.Popen(
            [str(binary), "serve", "--demo"], cwd=scratch, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        wait_healthy(server, f"http://{main_addr}/healthz", log)
        for block in blocks:
            code = block.code.replace(MAIN, main_addr).replace(ADMIN, admin_addr)
            run = subprocess.run(
                ["bash", "-c", "set -eo pipefail\n" + code],
                cwd=scratch,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=120,
            )
            if run.returncode != 0:
                fail(f"README.md line {block.line}: the example exited {run.returncode}; its output:", run.stdout)
            missing = unmatched(block.expected, run.stdout)
            if missing:
                number, text = missing
                fail(
                    f"README.md line {number}: the example of line {block.line} printed no line "
                    f"matching\n  {text}\n(in order, `…` matching anything); it printed:",
                    run.stdout,
                )
        print(f"check-readme: {len(blocks)} README examples match a real demo server")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
