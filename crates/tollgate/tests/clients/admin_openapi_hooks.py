"""Schemathesis hooks for admin_openapi.py: `POST /admin/v1/import` takes
JSON Lines (`application/x-ndjson`), which schemathesis has no serializer
for. Its body is documented as a string: send it as text, as it is."""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
