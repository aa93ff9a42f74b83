"""Drive Tollgate's OAuth 2.0 endpoints with authlib, a client library that
is not ours. Usage: oauth_client.py BASE_URL CLIENT_ID CLIENT_SECRET
Prints a JSON summary of what the server answered."""
import json
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session

base, client_id, client_secret = sys.argv[1], sys.argv[2], sys.argv[3]
metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
summary = {"metadata_token_endpoint": metadata["token_endpoint"]}

for method in ("client_secret_basic", "client_secret_post"):
    session = OAuth2Session(client_id, client_secret, token_endpoint_auth_method=method)
    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    summary[method] = {"token_type": token["token_type"], "expires_in": token["expires_in"]}

session = OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_basic")
token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
access_token = token["access_token"]
summary["access_token"] = access_token
summary["introspected"] = session.introspect_token(metadata["introspection_endpoint"], token=access_token).json()
revoked = session.revoke_token(metadata["revocation_endpoint"], token=access_token)
summary["revoke_status"] = revoked.status_code
summary["after_revoke"] = session.introspect_token(metadata["introspection_endpoint"], token=access_token).json()

bad = OAuth2Session(client_id, "wrong-secret", token_endpoint_auth_method="client_secret_basic")
try:
    bad.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    summary["wrong_secret"] = "accepted"
except Exception as error:  # authlib raises OAuthError carrying the RFC 6749 code
    summary["wrong_secret"] = getattr(error, "error", str(error))
print(json.dumps(summary))
