import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { SignJWT, importJWK } from 'jose';
import { tempDir } from '../../src/dev/temp-dir.js';
import { discover, signInAndDecide } from '../support/oauth-flow.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const verifier = 'x'.repeat(43);
const challenge = createHash('sha256').update(verifier).digest('base64url');
const dir = tempDir();
let system: TestSystem;
let issuer: string;

beforeAll(async () => {
  system = await startSystem(dir.path);
  issuer = system.config.issuer;
  await system.as.admin.registerUser({ ...alice, name: 'Alice' });
  await system.as.admin.registerUser({ username: 'bob', password: 'bobs password', name: 'Bob' });
  await system.as.admin.registerClient({ clientId: 'native', name: 'Native', clientType: 'public', redirectUris: ['http://127.0.0.1/cb'], scopes: ['profile'] });
  await system.as.admin.registerClient({ clientId: 'web', name: 'Web', clientType: 'confidential', redirectUris: ['http://127.0.0.1/cb'], scopes: ['profile'] });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

const authorizeUrl = (clientId: string, redirectUri: string) =>
  `${issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' })}`;

describe('redirect URIs (RFC 8252 loopback exception)', () => {
  it('lets a native client use any port on its registered loopback IP, through to the token', async () => {
    const url = new URL(authorizeUrl('native', 'http://127.0.0.1:53123/cb'));
    const back = await signInAndDecide(new UserAgent(), issuer, url, alice);
    expect(`${back.origin}${back.pathname}`).toBe('http://127.0.0.1:53123/cb');
    const token = await fetch(`${issuer}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'native', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:53123/cb' }),
    });
    expect(token.status).toBe(200);
  });

  it('gives a confidential client no such exception, and nobody localhost', async () => {
    for (const response of [await fetch(authorizeUrl('web', 'http://127.0.0.1:53123/cb'), { redirect: 'manual' }), await fetch(authorizeUrl('native', 'http://localhost:53123/cb'), { redirect: 'manual' })]) {
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    }
  });
});

describe('login throttling', () => {
  async function attempt(username: string, password: string, headers: Record<string, string> = {}, at = issuer) {
    const browser = new UserAgent();
    const toLogin = await browser.get(`${at}/authorize?${new URL(authorizeUrl('native', 'http://127.0.0.1/cb')).searchParams}`);
    const page = await (await browser.get(location(toLogin, at).toString())).text();
    return browser.postForm(`${at}/login`, { ...hiddenFields(page), username, password }, headers);
  }

  it('refuses an address five failures for an account, even the right password, with an event for each failure and none for a refusal', async () => {
    for (let i = 0; i < 5; i++) expect((await attempt('bob', `guess ${i}`)).status).toBe(401);
    const throttled = await attempt('bob', 'bobs password');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(await throttled.text()).toContain('Too many failed sign-in attempts');
    // Hammering on: refused just the same, and not one more event each (the store would grow at line rate).
    for (let i = 0; i < 3; i++) expect((await attempt('bob', `guess again ${i}`)).status).toBe(429);
    const events = (await system.as.store.readAll(0, 100_000)).filter((e) => e.type === 'LoginFailed' && e.data.username === 'bob');
    expect(events.map((e) => e.data.reason)).toEqual(Array(5).fill('bad_credentials'));
    expect(new Set(events.map((e) => e.stream)).size).toBe(1);
    expect(JSON.stringify(events)).not.toContain('guess');
    // Another account is not affected.
    expect((await attempt('alice', alice.password)).status).toBe(303);
  });

  it('throttles an address after twenty failures across accounts', async () => {
    for (let i = 0; i < 14; i++) expect((await attempt(`nobody${i}`, 'whatever')).status).toBe(401);
    // Five failures for bob above and one more here make twenty from this address.
    expect((await attempt('nobody-last', 'whatever')).status).toBe(401);
    expect((await attempt('alice', alice.password)).status).toBe(429);
    // Without TRUST_PROXY a client cannot name another address for itself.
    expect((await attempt('alice', alice.password, { 'x-forwarded-for': '198.51.100.1' })).status).toBe(429);
    // The address's twenty failures are on record; what it tries while throttled is not, whatever username it names.
    const failures = async () => (await system.as.store.readAll(0, 100_000)).filter((e) => e.type === 'LoginFailed').length;
    const before = await failures();
    for (let i = 0; i < 3; i++) expect((await attempt(`fresh${i}`, 'whatever')).status).toBe(429);
    expect(await failures()).toBe(before);
  });

  it('behind a proxy (TRUST_PROXY=true), counts the address the proxy saw, not the proxy\'s own', async () => {
    const proxiedDir = tempDir();
    const proxied = await startSystem(proxiedDir.path, { env: { TRUST_PROXY: 'true' } });
    try {
      await proxied.as.admin.registerUser({ ...alice, name: 'Alice' });
      await proxied.as.admin.registerClient({ clientId: 'native', name: 'Native', clientType: 'public', redirectUris: ['http://127.0.0.1/cb'], scopes: ['profile'] });
      await proxied.as.readSide.waitFor(await proxied.as.store.headPosition());
      const at = proxied.config.issuer;
      // What the client wrote comes first; the proxy appends the address it saw.
      const from = (address: string) => ({ 'x-forwarded-for': `203.0.113.77, ${address}` });
      for (let i = 0; i < 20; i++) expect((await attempt(`nobody${i}`, 'whatever', from('198.51.100.1'), at)).status).toBe(401);
      expect((await attempt('alice', alice.password, from('198.51.100.1'), at)).status).toBe(429);
      expect((await attempt('alice', alice.password, from('198.51.100.2'), at)).status).toBe(303);
      const failed = (await proxied.as.store.readAll(0, 100_000)).filter((e) => e.type === 'LoginFailed');
      expect(new Set(failed.map((e) => e.data.address))).toEqual(new Set(['198.51.100.1']));

      // No lever on the owner (security review, item 2): an address that failed five times
      // for alice, and keeps hammering, is refused; alice, from her own address, is not.
      for (let i = 0; i < 5; i++) expect((await attempt('alice', `guess ${i}`, from('203.0.113.66'), at)).status).toBe(401);
      for (let i = 0; i < 3; i++) expect((await attempt('alice', alice.password, from('203.0.113.66'), at)).status).toBe(429);
      expect((await attempt('alice', alice.password, from('198.51.100.2'), at)).status).toBe(303);
      // Spread over thirty addresses, the guessing closes the account to addresses it was never
      // signed in from, and still not to hers.
      for (let i = 0; i < 25; i++) expect((await attempt('alice', 'spread guess', from(`203.0.113.${100 + i}`), at)).status).toBe(401);
      expect((await attempt('alice', alice.password, from('192.0.2.200'), at)).status).toBe(429);
      expect((await attempt('alice', alice.password, from('198.51.100.2'), at)).status).toBe(303);
    } finally {
      await proxied.close();
      proxiedDir.remove();
    }
  });
});

describe('cross-origin reads (CORS)', () => {
  const from = (origin: string, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers as Record<string, string>), origin } });
  const tokenRequest = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&client_id=native&code=x.y&code_verifier=' + 'z'.repeat(43) };

  it('lets the origin of a client\'s redirect URI read its token answers, errors included, and no other origin', async () => {
    const own = await fetch(`${issuer}/token`, from('http://127.0.0.1', tokenRequest));
    expect(own.status).toBe(400);
    expect(own.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1');
    expect(own.headers.get('vary')).toContain('Origin');
    const stranger = await fetch(`${issuer}/token`, from('https://stranger.example', tokenRequest));
    expect(stranger.status).toBe(400);
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    // Without an Origin (a server, not a page) nothing changes.
    expect((await fetch(`${issuer}/token`, tokenRequest)).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers preflights, lets any page read the metadata and keys, and never lets cookies cross', async () => {
    const preflight = await fetch(`${issuer}/token`, from('http://127.0.0.1', { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } }));
    expect(preflight.status).toBe(204);
    expect(Object.fromEntries([...preflight.headers].filter(([k]) => k.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': 'http://127.0.0.1', 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'authorization, content-type, dpop', 'access-control-max-age': '600',
    });
    for (const path of ['/.well-known/oauth-authorization-server', '/jwks.json']) {
      const answer = await fetch(`${issuer}${path}`, from('https://anyone.example'));
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
      // The same without an Origin, so a cached copy serves pages too.
      expect((await fetch(`${issuer}${path}`)).headers.get('access-control-allow-origin')).toBe('*');
    }
    // The pages a person uses are not for other origins to read.
    expect((await fetch(`${issuer}/account`, from('https://anyone.example'))).headers.get('access-control-allow-origin')).toBeNull();
    const api = await fetch(`${system.config.resourceServerUrl}/api/profile`, from('https://anyone.example', { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } }));
    expect(api.status).toBe(204);
    expect(api.headers.get('access-control-allow-headers')).toBe('authorization, dpop');
    const unauthorized = await fetch(`${system.config.resourceServerUrl}/api/profile`, from('https://anyone.example'));
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe('*');
    expect(unauthorized.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');
  });
});

describe('cookies, sizes, and the resource server\'s algorithms', () => {
  it('marks the session cookie Secure, and names it __Host-, when the issuer is https', async () => {
    const dir2 = tempDir();
    const https = await startSystem(dir2.path, { env: { ISSUER: 'https://as.example' } });
    try {
      await https.as.admin.registerClient({ clientId: 'n', name: 'N', clientType: 'public', redirectUris: ['http://127.0.0.1/cb'], scopes: ['profile'] });
      await https.as.readSide.waitFor(await https.as.store.headPosition());
      const response = await fetch(`http://127.0.0.1:${https.as.port}/authorize?${new URL(authorizeUrl('n', 'http://127.0.0.1/cb')).searchParams}`, { redirect: 'manual' });
      expect(response.status).toBe(303);
      expect(response.headers.get('set-cookie')).toMatch(/^__Host-as_session=[\w-]{43}\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    } finally {
      await https.close();
      dir2.remove();
    }
    const plain = await fetch(authorizeUrl('native', 'http://127.0.0.1/cb'), { redirect: 'manual' });
    expect(plain.headers.get('set-cookie')).toMatch(/^as_session=[\w-]{43}\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('answers an oversized body with 413 and oversized headers with 431', async () => {
    const big = await fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=${'a'.repeat(20_000)}` });
    expect(big.status).toBe(413);
    expect(big.headers.get('cache-control')).toBe('no-store');
    // Without a Content-Length (chunked), the limit holds while reading, and the answer is still a 413.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write(`a${i}=${'b'.repeat(1_000)}&`);
      req.end();
    });
    expect(chunked).toBe(413);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${issuer}/token`, { method: 'GET', headers: { 'x-filler': 'a'.repeat(40_000) } }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
  });

  it('refuses alg none, HMAC keyed with the public key, and tokens from beyond the clock skew', async () => {
    // A machine token: sign-ins from this address are throttled by now.
    const { clientSecret } = await system.as.admin.registerClient({
      clientId: 'machine', name: 'M', clientType: 'confidential', redirectUris: ['https://m.example/cb'], scopes: ['profile'], grantTypes: ['client_credentials'],
    });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const tokens = (await (await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`machine:${clientSecret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    })).json()) as { access_token: string };
    await system.rs.projections.waitFor(await system.as.store.headPosition());
    const call = (token: string) => fetch(`${system.config.resourceServerUrl}/api/profile`, { headers: { authorization: `Bearer ${token}` } });
    expect((await call(tokens.access_token)).status).toBe(200);
    const [header, payload] = tokens.access_token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const kid = JSON.parse(Buffer.from(header, 'base64url').toString()).kid;
    expect((await call(`${b64({ alg: 'none', typ: 'at+jwt', kid })}.${payload}.`)).status).toBe(401);
    const jwks = (await (await fetch(`${issuer}/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    const publicKeyAsSecret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid }).sign(publicKeyAsSecret);
    expect((await call(hmac)).status).toBe(401);

    const key = await importJWK(JSON.parse((await system.as.ports.secrets.get('signing_key', kid))!), 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const signed = (exp: number) => new SignJWT({ ...claims, exp }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(key);
    expect((await call(await signed(now - 10))).status).toBe(200); // within the 30 s skew
    expect((await call(await signed(now - 40))).status).toBe(401);
  });

  it('announces PKCE S256 only, and the iss response parameter, in its metadata', async () => {
    const as = await discover(issuer);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.response_types_supported).toEqual(['code']);
  });
});
