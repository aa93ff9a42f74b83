#!/usr/bin/env python3
"""Compares how long two kinds of refused request take, interleaved.

    python3 bench/timing.py BASE_URL SECONDS LABEL_A PATH_A BODY_A LABEL_B PATH_B BODY_B

Sends A, B, A, B, ... (POST, application/json) over one keep-alive
connection each for SECONDS in all, and prints one JSON line: each kind's
median and 90th percentile in microseconds, its count and statuses, and the
difference of the medians. Interleaving gives both kinds the same machine at
the same moment, so drift in the host's speed (a shared machine, a
neighbour's burst) cancels out instead of landing on whichever ran second,
as it does when two load-generator runs follow each other.

A body may hold `{n}` (a counter) or `{hex40}` (40 random hex digits, the
shape of an access key), so that each request names something never seen
before: an unknown name, an unknown key. Standard library only.
"""

import http.client
import json
import secrets
import statistics
import sys
import time
from urllib.parse import urlsplit


def main():
    base, seconds = sys.argv[1], float(sys.argv[2])
    kinds = [sys.argv[3:6], sys.argv[6:9]]
    target = urlsplit(base)
    connections = [http.client.HTTPConnection(target.hostname, target.port, timeout=10) for _ in kinds]
    samples = [[] for _ in kinds]
    statuses = [{} for _ in kinds]
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        for index, (_, path, body) in enumerate(kinds):
            n += 1
            payload = body.replace("{n}", str(n)).replace("{hex40}", secrets.token_hex(20)).encode()
            started = time.perf_counter()
            connections[index].request("POST", path, payload, {"Content-Type": "application/json"})
            response = connections[index].getresponse()
            response.read()
            samples[index].append((time.perf_counter() - started) * 1e6)
            statuses[index][response.status] = statuses[index].get(response.status, 0) + 1
    result = {}
    for (label, _, _), times, seen in zip(kinds, samples, statuses):
        times.sort()
        result[label] = {
            "count": len(times),
            "median_us": round(statistics.median(times)),
            "p90_us": round(times[int(len(times) * 0.9)]),
            "statuses": {str(k): v for k, v in sorted(seen.items())},
        }
    a, b = (result[label]["median_us"] for label, _, _ in kinds)
    result["difference"] = f"{a / b - 1:+.1%}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
