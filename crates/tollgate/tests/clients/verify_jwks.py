"""Verify a Tollgate JWT against its published JWK Set with PyJWT.
Usage: verify_jwks.py TOKEN JWKS_URL ALGORITHM
Prints {"kid": ..., "claims": ...} as JSON, or exits 1 if it does not verify."""
import json
import sys

import jwt

token, jwks_url, algorithm = sys.argv[1], sys.argv[2], sys.argv[3]
signing_key = jwt.PyJWKClient(jwks_url, cache_keys=False).get_signing_key_from_jwt(token)
claims = jwt.decode(token, signing_key.key, algorithms=[algorithm], options={"require": ["exp", "iat"]})
print(json.dumps({"kid": signing_key.key_id, "claims": claims}))
