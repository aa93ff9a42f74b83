"""Verify a Tollgate JWT with PyJWT, an implementation independent of the
one that signed it. Usage: verify_jwt.py TOKEN SECRET ALGORITHM
Prints {"header": ..., "claims": ...} as JSON, or exits 1 if it does not verify."""
import json
import sys

import jwt

token, secret, algorithm = sys.argv[1], sys.argv[2], sys.argv[3]
header = jwt.get_unverified_header(token)
claims = jwt.decode(token, secret, algorithms=[algorithm], options={"require": ["exp", "iat"]})
print(json.dumps({"header": header, "claims": claims}))
