import fc from 'fast-check';
import { tempDir } from '../../src/dev/temp-dir.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';

/**
 * Hostile input, property-based: malformed, oversized, repeated and random parameters,
 * headers and bodies at every endpoint of both servers. Whatever comes in, the answer
 * is not a 5xx, comes quickly, shows no stack trace, and a refused request appends no event.
 */
const dir = tempDir();
let system: TestSystem;
const RUNS_PER_ENDPOINT = Number(process.env.FUZZ_RUNS ?? 150);

beforeAll(async () => {
  system = await startSystem(dir.path);
  await system.as.admin.registerUser({ username: 'alice', password: 'correct horse battery', name: 'Alice' });
  await registerWebClient(system);
  await system.as.admin.registerResourceServer({ uri: 'https://rs.example/api', name: 'RS', scopes: ['profile'] });
  await system.as.admin.registerClient({ clientId: 'spa', name: 'SPA', clientType: 'public', redirectUris: ['http://127.0.0.1:9/spa'], scopes: ['profile'] });
  await system.as.admin.registerClient({ clientId: 'tv', name: 'TV', clientType: 'public', redirectUris: [], scopes: ['profile'], grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'] });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

const OAUTH_NAMES = [
  'device_code', 'user_code',
  'response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'code', 'code_verifier',
  'grant_type', 'refresh_token', 'client_secret', 'client_assertion', 'client_assertion_type', 'token', 'token_type_hint', 'request',
  'csrf', 'decision', 'username', 'password', 'grant', 'resource', 'request_uri', 'dpop_jkt',
];
const KNOWN_VALUES = [
  'urn:ietf:params:oauth:grant-type:device_code', 'tv', 'BCDF-GHJK', 'bcdfghjk',
  'code', 'token', 'web', 'spa', 'http://127.0.0.1:9/cb', 'http://127.0.0.1:9/spa', 'profile', 'S256', 'plain', 'authorization_code',
  'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'approve', 'deny', 'alice',
  '00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'eyJhbGciOiJub25lIn0.e30.', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  'https://rs.example/api', 'https://rs.example/api#f', 'https://rs.example/api?q=1',
];

const value = fc.oneof(
  fc.constantFrom(...KNOWN_VALUES),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ minLength: 1000, maxLength: 20_000 }),
);
const params = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...OAUTH_NAMES), fc.string({ maxLength: 12 })), value), { maxLength: 12 });
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 });
const headers = fc.record(
  {
    // Mostly the right content type, so that requests get past the body parser to the deeper checks.
    'content-type': fc.oneof(
      { arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 6 },
      { arbitrary: fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x'), weight: 1 },
      { arbitrary: headerValue, weight: 1 },
    ),
    authorization: fc.oneof(
      fc.constantFrom('Basic d2ViOg==', 'Basic Og==', 'Basic %%%', 'Bearer ', 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.e30.'),
      // Broken percent-encoding inside well-formed Basic credentials.
      fc.constantFrom('web:%', '%E0%A4%A:x', 'spa:%zz', ':', 'web:').map((v) => `Basic ${Buffer.from(v).toString('base64')}`),
      headerValue.map((v) => `Basic ${Buffer.from(v).toString('base64')}`),
      headerValue.map((v) => `Bearer ${v}`),
      headerValue.map((v) => `DPoP ${v}`),
      headerValue,
    ),
    cookie: fc.oneof(headerValue, headerValue.map((v) => `as_session=${v}; as_account=${v}`)),
    dpop: fc.oneof(headerValue, fc.constantFrom('eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.e30.', 'a.b.c', 'x,y')),
    'x-request-id': headerValue,
  },
  { requiredKeys: ['content-type'] },
);
const body = fc.oneof(
  { arbitrary: params.map((p) => new URLSearchParams(p).toString()), weight: 4 },
  { arbitrary: fc.string({ maxLength: 2000 }), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)), weight: 1 },
  { arbitrary: fc.constant(''), weight: 1 },
);

/** Whatever came in: not a 5xx, no stack trace, and a refusal appended nothing. */
async function expectHarmless(response: Response, headBefore: number): Promise<void> {
  const text = await response.text();
  expect(response.status).toBeLessThan(500);
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
  if (response.status >= 400) expect(await system.as.store.headPosition()).toBe(headBefore);
}

const ENDPOINTS: Array<{ method: 'GET' | 'POST'; path: string; server: 'as' | 'rs' }> = [
  ...['/authorize', '/login', '/consent', '/account', '/.well-known/oauth-authorization-server', '/jwks.json', '/token', '/healthz', '/readyz', '/events/asyncapi.json', '/audit/history', '/audit/grants-at', '/logout', '/userinfo', '/.well-known/openid-configuration', '/end_session', '/device', '/device/approve'].map((path) => ({ method: 'GET' as const, path, server: 'as' as const })),
  ...['/token', '/revoke', '/introspect', '/login', '/consent', '/account/login', '/account/grants/revoke', '/account/sign-in-sessions/end', '/account/logout', '/authorize', '/logout', '/userinfo', '/end_session', '/device_authorization', '/device', '/device/approve', '/par'].map((path) => ({ method: 'POST' as const, path, server: 'as' as const })),
  ...['/api/profile', '/api/items', '/healthz', '/.well-known/oauth-protected-resource'].map((path) => ({ method: 'GET' as const, path, server: 'rs' as const })),
  { method: 'POST', path: '/api/profile', server: 'rs' },
];

describe.each(ENDPOINTS)('fuzzing $method $path on the $server', ({ method, path, server }) => {
  it(`answers ${RUNS_PER_ENDPOINT} hostile requests with no 5xx, no hang, no stack trace, and no event when refused`, async () => {
    const base = server === 'as' ? system.config.issuer : system.config.resourceServerUrl;
    await fc.assert(
      fc.asyncProperty(params, headers, body, async (query, requestHeaders, requestBody) => {
        const head = await system.as.store.headPosition();
        const url = `${base}${path}?${new URLSearchParams(query)}`;
        const response = await fetch(url, {
          method,
          headers: requestHeaders,
          body: method === 'POST' ? requestBody : undefined,
          redirect: 'manual',
          signal: AbortSignal.timeout(5000),
        });
        await expectHarmless(response, head);
      }),
      { numRuns: RUNS_PER_ENDPOINT },
    );
  });
});

/** The registration endpoints (RFC 7591, 7592) take JSON: client metadata, random or nearly right, with good and bad tokens. */
describe('fuzzing the registration and client configuration endpoints', () => {
  const METADATA_NAMES = [
    'redirect_uris', 'token_endpoint_auth_method', 'grant_types', 'response_types', 'client_name', 'client_uri', 'logo_uri', 'scope', 'contacts',
    'tos_uri', 'policy_uri', 'jwks_uri', 'jwks', 'software_id', 'software_version', 'software_statement', 'client_id', 'client_secret',
    'id_token_signed_response_alg', 'post_logout_redirect_uris',
  ];
  const metadataValue = fc.oneof(
    fc.constantFrom('none', 'client_secret_basic', 'private_key_jwt', 'http://127.0.0.1:9/cb', 'com.example.app:/cb', 'https://app.example/cb', 'profile', 'code'),
    fc.constantFrom(['http://127.0.0.1:9/cb'], ['authorization_code', 'refresh_token'], ['client_credentials'], ['code'], { keys: [{ kty: 'EC', d: 'x' }] }, { keys: [] }),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const metadata = fc.dictionary(fc.oneof(fc.constantFrom(...METADATA_NAMES), fc.string({ maxLength: 12 })), metadataValue, { maxKeys: 10 });
  const jsonBody = fc.oneof(
    { arbitrary: metadata.map((m) => JSON.stringify(m)), weight: 4 },
    { arbitrary: fc.json({ maxDepth: 3 }), weight: 1 },
    { arbitrary: fc.string({ maxLength: 500 }), weight: 1 },
  );
  let clientUri = '';
  let token = '';
  beforeAll(async () => {
    const response = await fetch(`${system.config.issuer}/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    ({ registration_client_uri: clientUri, registration_access_token: token } = (await response.json()) as Record<string, string>);
  });

  it.each(['POST /register', 'GET /register/<id>', 'PUT /register/<id>', 'DELETE /register/<id>'])(`answers ${RUNS_PER_ENDPOINT} hostile requests to %s with no 5xx, no stack trace, and no event when refused`, async (endpoint) => {
    const [method, path] = endpoint.split(' ');
    const clientId = fc.oneof(fc.constant(''), fc.string({ maxLength: 40 }), fc.constant('web'));
    await fc.assert(
      fc.asyncProperty(jsonBody, clientId, fc.boolean(), fc.oneof(fc.constant(undefined), fc.constant(`Bearer ${token}`), headers.map((h) => h.authorization)), fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8'),
        async (requestBody, id, own, authorization, contentType) => {
          const head = await system.as.store.headPosition();
          const url = path === '/register' ? `${system.config.issuer}/register` : own ? clientUri : `${system.config.issuer}/register/${encodeURIComponent(id)}`;
          const response = await fetch(url, {
            method,
            headers: { 'content-type': contentType, ...(authorization ? { authorization } : {}) },
            body: method === 'POST' || method === 'PUT' ? requestBody : undefined,
            signal: AbortSignal.timeout(5000),
          });
          await expectHarmless(response, head);
        }),
      { numRuns: RUNS_PER_ENDPOINT },
    );
  });
});
