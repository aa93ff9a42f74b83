"""Check the admin API's OpenAPI document with tools that are not ours.

Usage: admin_openapi.py ADMIN_BASE_URL BEARER_TOKEN

1. openapi-spec-validator must accept the document as OpenAPI 3.1.
2. schemathesis sends what the document describes (and mutations of it) to
   every operation, in all its phases, and checks each answer: never a 5xx,
   every status, content type, header and body as documented. Bounded by
   examples per operation and a fixed seed, so a run is repeatable.
   Two checks stay off: they demand that the schema alone decides what is
   accepted, while the server also refuses schema-valid requests by rule
   (a name taken, an expiry in the past, a cursor it never gave out) and
   caps an oversized `limit` instead of refusing it (DESIGN.md §8).
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from openapi_spec_validator import validate


def main() -> int:
    base, token = sys.argv[1].rstrip("/"), sys.argv[2]
    document_url = f"{base}/admin/v1/openapi.json"
    with urllib.request.urlopen(document_url, timeout=10) as response:
        document = json.load(response)
    validate(document)
    print(f"openapi-spec-validator: {document['openapi']} document with {len(document['paths'])} paths is valid")

    schemathesis = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    command = [
        schemathesis, "run", document_url,
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all",
        "--exclude-checks", "positive_data_acceptance,negative_data_rejection",
        "--max-examples", os.environ.get("TOLLGATE_SCHEMATHESIS_EXAMPLES", "25"),
        "--seed", os.environ.get("TOLLGATE_SCHEMATHESIS_SEED", "7"),
        "--workers", "1",
        "--no-color",
    ]
    # JSON Lines bodies (the import) go as text: a serializer from the hooks.
    hooks = os.path.join(os.path.dirname(os.path.abspath(__file__)), "admin_openapi_hooks.py")
    env = dict(os.environ, SCHEMATHESIS_HOOKS=hooks)
    # Schemathesis keeps a cache where it runs: somewhere that goes away.
    with tempfile.TemporaryDirectory() as scratch:
        run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=scratch, env=env)
    print(run.stdout[-6000:])
    print(run.stderr[-3000:], file=sys.stderr)
    if run.returncode != 0:
        return run.returncode

    # The token still works: the run exercised the API, not its 401s.
    request = urllib.request.Request(f"{base}/admin/v1/audit-events?limit=1",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status
    return 0


if __name__ == "__main__":
    sys.exit(main())
