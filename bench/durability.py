#!/usr/bin/env python3
"""Durability rounds against the release binary (DESIGN.md §5, §7).

Round "kill": 64 clients log in with contract B while the server is killed
with SIGKILL; after a restart every token answered 200 must still verify.

Round "disk-full": the database lives on a small tmpfs; clients log in with
contracts A and B while a filler file takes the last free byte, then the
space is freed. No login may answer 200 for a token that was not stored,
/readyz must say 503 while writes fail, and logins and readiness must come
back by themselves (no restart) within 5 s.

Standard library only. Run as root for the disk-full round (it mounts a
tmpfs); without permission to mount, that round is reported as skipped.

    python3 bench/durability.py BINARY [--rounds kill,disk-full] [--seconds 3]
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

A_BODY = json.dumps({"username": "user", "password": "1234"})
B_BODY = json.dumps({"UserLogin": "John.Doo", "ApiKey": "hDn/LFXIPESM036W+s7VKg=="})


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A `tollgate serve --demo` process on a port of its own."""

    def __init__(self, binary, database_url, port):
        env = dict(os.environ, RUST_LOG="warn", TOLLGATE_APIKEY__TOKEN_TTL="10m", TOLLGATE_ADMIN__LISTEN="127.0.0.1:0")
        self.port = port
        self.process = subprocess.Popen(
            [binary, "serve", "--demo", "--listen", f"127.0.0.1:{port}", "--database", database_url],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if status(port, "GET", "/healthz") == 200:
                return
            time.sleep(0.05)
        raise SystemExit("server did not start")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.terminate()
        self.process.wait()


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def status(port, method, path, body=None, headers=None):
    try:
        return request(port, method, path, body, headers)[0]
    except OSError:
        return 0


def verify(port, token):
    return status(port, "GET", "/auth/verify", headers={"Authorization": f"Bearer {token}"})


class Clients:
    """Threads logging in until stopped; they keep every token answered 200."""

    def __init__(self, port, count, contracts):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.tokens = []
        self.failures = 0
        self.threads = [
            threading.Thread(target=self.run, args=(contracts[i % len(contracts)],), daemon=True)
            for i in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def run(self, contract):
        path, body, field = {
            "A": ("/v1/login_check", A_BODY, "token"),
            "B": ("/api/login", B_BODY, "Token"),
        }[contract]
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stop.is_set():
            try:
                connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                data = response.read()
            except OSError:
                # The server went away (the kill round): stop this client.
                return
            with self.lock:
                if response.status == 200:
                    self.tokens.append(json.loads(data)[field])
                elif response.status == 500:
                    self.failures += 1
                else:
                    raise SystemExit(f"{path} answered {response.status}: {data[:200]!r}")

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join()
        return self.tokens, self.failures


def round_kill(binary, seconds):
    work = tempfile.mkdtemp()
    url = f"sqlite://{work}/tollgate.db"
    port = free_port()
    server = Server(binary, url, port)
    clients = Clients(port, 64, ["B"])
    time.sleep(seconds)
    server.kill()
    tokens, _ = clients.finish()
    server = Server(binary, url, port)
    lost = sum(1 for token in tokens if verify(port, token) != 200)
    server.stop()
    print(f"kill -9: {len(tokens)} tokens answered before SIGKILL, {lost} lost after restart")
    return lost == 0 and len(tokens) > 0


def round_disk_full(binary, seconds):
    work = tempfile.mkdtemp()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", work],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        print(f"disk full: skipped ({mounted.stderr.strip() or 'mount refused'})")
        return True
    try:
        url = f"sqlite://{work}/tollgate.db"
        port = free_port()
        server = Server(binary, url, port)
        clients = Clients(port, 16, ["A", "B", "B", "B"])
        time.sleep(seconds / 3)
        # The filler takes the free space: freeing it later is the cause
        # going away. (Were the database's own WAL to fill the disk, no space
        # would come back for it to checkpoint into.)
        filler = os.path.join(work, "filler")
        with open(filler, "wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        filled = os.path.getsize(filler)
        not_ready = False
        full_until = time.time() + seconds
        while time.time() < full_until:
            not_ready |= status(port, "GET", "/readyz") == 503
            time.sleep(0.05)
        failures_while_full = clients.failures
        os.remove(filler)
        freed = time.time()
        recovered = None
        while time.time() - freed < 10:
            if status(port, "POST", "/api/login", B_BODY, {"Content-Type": "application/json"}) == 200 \
                    and status(port, "GET", "/readyz") == 200:
                recovered = time.time() - freed
                break
            time.sleep(0.05)
        time.sleep(seconds / 3)
        tokens, failures = clients.finish()
        lost = sum(1 for token in tokens if verify(port, token) != 200)
        server.stop()
        print(f"disk full: a {filled / 2**20:.1f} MiB filler took the free space; "
              f"{failures_while_full} logins answered 500 while full, /readyz 503 seen: {not_ready}, "
              f"writes back {recovered if recovered is None else f'{recovered:.2f} s'} after the space returned; "
              f"{len(tokens)} tokens answered 200, {lost} of them do not verify")
        return lost == 0 and failures_while_full > 0 and not_ready and recovered is not None and recovered < 5
    finally:
        subprocess.run(["umount", "-l", work], capture_output=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--rounds", default="kill,disk-full")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rounds = {"kill": round_kill, "disk-full": round_disk_full}
    ok = True
    for name in args.rounds.split(","):
        ok &= rounds[name](args.binary, args.seconds)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
