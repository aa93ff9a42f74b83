// The benchmark peer: oidc-provider v9 with one client_credentials client,
// introspection on, in-memory adapter, opaque or HS384 JWT access tokens
// (AT_FORMAT=opaque|jwt). Same configuration as shared/reference.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const PORT = Number(process.env.PORT || 3000);
const FORMAT = process.env.AT_FORMAT || 'opaque';
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const hsKey = crypto.createSecretKey(Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef'));

const provider = new Provider(`http://127.0.0.1:${PORT}`, {
  clients: [{
    client_id: 'svc',
    client_secret: 'svc-secret-0123456789abcdef0123456789',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'api:read',
  }],
  jwks: { keys: [{ ...rsa, kid: 'k1', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: ['cookie-key-0123456789abcdef'] },
  scopes: ['api:read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => 'urn:api',
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'api:read',
        accessTokenTTL: 900,
        accessTokenFormat: FORMAT,
        ...(FORMAT === 'jwt' ? { jwt: { sign: { alg: 'HS384', key: hsKey } } } : {}),
      }),
    },
  },
  ttl: { ClientCredentials: 900 },
});
http.createServer(provider.callback()).listen(PORT, '127.0.0.1', () =>
  console.error(`oidc-provider ${FORMAT} listening 127.0.0.1:${PORT}`));
