/**
 * node-oidc-provider configured to do the same work as this server: client_credentials with
 * client_secret_basic, ES256 JWT access tokens for one resource server, introspection,
 * and its in-memory adapter. Runs in its own process: `node oidc-provider-server.js <port> <jwk> [jwt|opaque]`.
 */
import Provider from 'oidc-provider';

const [port, privateJwk] = [Number(process.argv[2]), JSON.parse(process.argv[3]) as Record<string, unknown>];
// It cannot introspect its structured JWT tokens, so the introspection comparison runs it with opaque ones.
const accessTokenFormat = process.argv[4] === 'opaque' ? 'opaque' : 'jwt';
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench',
      client_secret: 'bench-secret-bench-secret-bench-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      // Its only key is ES256, so ID tokens (unused here) must say so too.
      id_token_signed_response_alg: 'ES256',
      scope: 'profile',
    },
  ],
  jwks: { keys: [privateJwk] },
  scopes: ['profile'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'http://127.0.0.1:4000',
      getResourceServerInfo: () => ({ scope: 'profile', audience: 'http://127.0.0.1:4000', accessTokenFormat, jwt: { sign: { alg: 'ES256' } } }),
      useGrantedResource: () => true,
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log('ready'));
