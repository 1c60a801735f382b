import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { SignJWT, generateKeyPair } from 'jose';
import { authorizationUrl, discover, runCodeFlow, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const dir = tempDir();
let system: TestSystem;
let issuer: string;
let rsUrl: string;
let web: FlowClient;
const verifier = 'dBjftJeZ4CVP-mJ92K1tjFqTlaDv8eVG9NAGpPI3hHiZ_N1RsO9aVqZrO7sU8cNz';
const challenge = createHash('sha256').update(verifier).digest('base64url');

beforeAll(async () => {
  system = await startSystem(dir.path);
  issuer = system.config.issuer;
  rsUrl = system.config.resourceServerUrl;
  await system.as.admin.registerUser({ ...alice, name: 'Alice' });
  const { clientSecret } = await system.as.admin.registerClient({
    clientId: 'web', name: 'Web <App>', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/cb?app=1'], scopes: ['profile', 'items:read'],
  });
  web = { clientId: 'web', clientSecret, redirectUri: 'http://127.0.0.1:9/cb?app=1' };
  await system.as.admin.registerClient({
    clientId: 'post', name: 'Post', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/post'], scopes: ['profile'], tokenEndpointAuthMethod: 'client_secret_post',
  });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

const authorize = (params: Record<string, string>, raw = '') =>
  fetch(`${issuer}/authorize?${new URLSearchParams(params)}${raw}`, { redirect: 'manual' });
const valid = { response_type: 'code', client_id: 'web', redirect_uri: 'http://127.0.0.1:9/cb?app=1', scope: 'profile', state: 's1', code_challenge: challenge, code_challenge_method: 'S256' };
const eventCount = async () => system.as.store.headPosition();

describe('authorization endpoint', () => {
  it.each([
    ['an unknown client', { client_id: 'nobody' }],
    ['an unregistered redirect_uri', { redirect_uri: 'http://127.0.0.1:9/evil' }],
    ['a redirect_uri that only starts like a registered one', { redirect_uri: 'http://127.0.0.1:9/cb?app=1&x=2' }],
  ])('shows an error page for %s and never redirects', async (_what, override) => {
    const before = await eventCount();
    const response = await authorize({ ...valid, ...override });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await eventCount()).toBe(before);
  });

  it('shows an error page when client_id is repeated', async () => {
    const response = await authorize(valid, '&client_id=web');
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it.each([
    ['a missing code_challenge', { code_challenge: '' }, 'invalid_request'],
    ['code_challenge_method=plain', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['a missing code_challenge_method', { code_challenge_method: '' }, 'invalid_request'],
    ['a malformed code_challenge', { code_challenge: 'short' }, 'invalid_request'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    ['a missing response_type', { response_type: '' }, 'invalid_request'],
    ['a scope the client may not ask for', { scope: 'profile admin' }, 'invalid_scope'],
  ])('redirects %s back with the error, state and iss', async (_what, override, error) => {
    const params = Object.fromEntries(Object.entries({ ...valid, ...override }).filter(([, v]) => v !== ''));
    const before = await eventCount();
    const response = await authorize(params);
    expect(response.status).toBe(303);
    const back = location(response, issuer);
    expect(`${back.origin}${back.pathname}`).toBe('http://127.0.0.1:9/cb');
    expect(back.searchParams.get('app')).toBe('1');
    expect(back.searchParams.get('error')).toBe(error);
    expect(back.searchParams.get('state')).toBe('s1');
    expect(back.searchParams.get('iss')).toBe(issuer);
    expect(await eventCount()).toBe(before);
  });

  it('redirects a repeated parameter back as invalid_request', async () => {
    const back = location(await authorize(valid, '&scope=profile'), issuer);
    expect(back.searchParams.get('error')).toBe('invalid_request');
  });

  it('sends a denial back as access_denied with state and iss', async () => {
    const as = await discover(issuer);
    const { url, state } = await authorizationUrl(as, web, 'profile');
    const back = await signInAndDecide(new UserAgent(), issuer, url, alice, 'deny');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('iss')).toBe(issuer);
    expect(back.searchParams.get('code')).toBeNull();
  });
});

describe('login and consent pages', () => {
  async function toLoginPage(browser = new UserAgent()) {
    const response = await browser.get(`${issuer}/authorize?${new URLSearchParams(valid)}`);
    const page = await browser.get(location(response, issuer).toString());
    return { browser, page, html: await page.text() };
  }

  it('answer a broken or repeated request link with an error page, not a 500', async () => {
    for (const path of ['/login', '/login?request=nope', '/login?request=a&request=b', '/consent', `/consent?request=${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`]) {
      const response = await fetch(`${issuer}${path}`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
    }
  });

  it('record nothing until the user decides, then the request, the sign-in and the decision in one append, once', async () => {
    const before = await eventCount();
    // Anyone may send these at line rate: the store keeps every event for ever, so none is kept for them.
    for (let i = 0; i < 20; i++) expect((await authorize({ ...valid, state: `s${i}` })).status).toBe(303);
    const { browser, page, html } = await toLoginPage();
    expect(page.status).toBe(200);
    expect(await eventCount()).toBe(before);

    // The sign-in is the sign-in session's own record; the grant has nothing yet.
    const login = await browser.postForm(`${issuer}/login`, { ...hiddenFields(html), ...alice });
    expect(login.status).toBe(303);
    expect((await system.as.store.readAll(before, 10)).map((e) => e.type)).toEqual(['SignInSessionStarted']);
    const consentPage = await browser.get(location(login, issuer).toString());
    const consentHtml = await consentPage.text();
    expect(consentHtml).toContain('Signed in as alice');
    const decided = await browser.postForm(`${issuer}/consent`, { ...hiddenFields(consentHtml), decision: 'approve' });
    expect(location(decided, issuer).searchParams.get('code')).toEqual(expect.any(String));

    const added = await system.as.store.readAll(before, 10);
    const grantEvents = added.filter((e) => e.stream.startsWith('grant-'));
    expect(grantEvents.map((e) => [e.type, e.revision])).toEqual([['AuthorizationRequested', 0], ['UserAuthenticated', 1], ['ConsentGranted', 2], ['AuthorizationCodeIssued', 3]]);
    expect(grantEvents[0].data).toMatchObject({ clientId: 'web', scopes: ['profile'], state: 's1', codeChallenge: challenge, redirectUriSent: true });
    // Which sign-in the password started: the session stream's name.
    const session = added.find((e) => e.type === 'SignInSessionStarted')!;
    expect(grantEvents[1].data).toMatchObject({ method: 'password', username: 'alice', signInSessionId: session.stream.slice('session-'.length) });
    expect(session.data.grantId).toBe(grantEvents[0].data.grantId);

    // Both links are spent: neither shows its page again nor records a second decision.
    expect((await browser.get(page.url)).status).toBe(400);
    expect((await browser.get(consentPage.url)).status).toBe(400);
    const again = await browser.postForm(`${issuer}/consent`, { ...hiddenFields(consentHtml), decision: 'deny' });
    expect(again.status).toBe(400);
    expect(await system.as.store.readAll(before, 100)).toHaveLength(added.length);
  });

  it('record nothing on the grant for a sign-in abandoned at the consent page', async () => {
    const { browser, html } = await toLoginPage();
    const before = await eventCount();
    const login = await browser.postForm(`${issuer}/login`, { ...hiddenFields(html), ...alice });
    expect((await browser.get(location(login, issuer).toString())).status).toBe(200);
    expect((await system.as.store.readAll(before, 10)).map((e) => e.type)).toEqual(['SignInSessionStarted']);
  });

  it('hold a request with a long state to the login page, and refuse at the redirect URI one too large to hold', async () => {
    const browser = new UserAgent();
    const long = 's'.repeat(2000);
    const held = location(await browser.get(`${issuer}/authorize?${new URLSearchParams({ ...valid, state: long })}`), issuer);
    expect(held.pathname).toBe('/login');
    expect((await browser.get(held.toString())).status).toBe(200);
    const huge = 's'.repeat(7000);
    const refused = location(await browser.get(`${issuer}/authorize?${new URLSearchParams({ ...valid, state: huge })}`), issuer);
    expect(`${refused.origin}${refused.pathname}`).toBe('http://127.0.0.1:9/cb');
    expect(Object.fromEntries(refused.searchParams)).toMatchObject({ error: 'invalid_request', state: huge, iss: issuer });
  });

  it('open a held request only as it was made: a changed one is refused', async () => {
    const { browser, page } = await toLoginPage();
    const sealed = Buffer.from(new URL(page.url).searchParams.get('request')!, 'base64url');
    sealed[20] ^= 1;
    const changed = await browser.get(`${issuer}/login?request=${sealed.toString('base64url')}`);
    expect(changed.status).toBe(400);
    expect(await changed.text()).toContain('start again from the application');
    expect((await browser.get(page.url)).status).toBe(200);
  });

  it('refuse to be framed and escape what clients registered', async () => {
    const { page, html } = await toLoginPage();
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(html).toContain('Web &lt;App&gt;');
    expect(html).not.toContain('Web <App>');
  });

  it('answer a wrong password with the form again, 401, and a LoginFailed event only', async () => {
    const { browser, html } = await toLoginPage();
    const before = await eventCount();
    const response = await browser.postForm(`${issuer}/login`, { ...hiddenFields(html), username: 'alice', password: 'wrong password' });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('Wrong username or password');
    const added = await system.as.store.readAll(before, 10);
    expect(added.map((e) => e.type)).toEqual(['LoginFailed']);
    expect(added[0].data).toMatchObject({ username: 'alice', reason: 'bad_credentials', address: '127.0.0.1' });
    expect(JSON.stringify(added)).not.toContain('wrong password');
    const unknown = await browser.postForm(`${issuer}/login`, { ...hiddenFields(html), username: 'mallory', password: 'whatever1' });
    expect(unknown.status).toBe(401);
  });

  it('refuse a form without its CSRF token, or from another browser', async () => {
    const { browser, html } = await toLoginPage();
    const fields = hiddenFields(html);
    const noCsrf = await browser.postForm(`${issuer}/login`, { request: fields.request, ...alice });
    expect(noCsrf.status).toBe(400);
    const otherBrowser = new UserAgent();
    await otherBrowser.get(`${issuer}/authorize?${new URLSearchParams(valid)}`);
    const stolen = await otherBrowser.postForm(`${issuer}/login`, { ...fields, ...alice });
    expect(stolen.status).toBe(400);
    expect(await stolen.text()).not.toMatch(/at .*\.ts:\d+/);
  });

  it('take a consent decision once', async () => {
    const { browser, html } = await toLoginPage();
    const login = await browser.postForm(`${issuer}/login`, { ...hiddenFields(html), ...alice });
    const consent = await (await browser.get(location(login, issuer).toString())).text();
    const first = await browser.postForm(`${issuer}/consent`, { ...hiddenFields(consent), decision: 'approve' });
    expect(first.status).toBe(303);
    const again = await browser.postForm(`${issuer}/consent`, { ...hiddenFields(consent), decision: 'approve' });
    expect(again.status).toBe(400);
  });
});

describe('token endpoint', () => {
  async function freshCode(client: FlowClient = web) {
    const url = new URL(`${issuer}/authorize`);
    for (const [k, v] of Object.entries({ ...valid, client_id: client.clientId, redirect_uri: client.redirectUri })) url.searchParams.set(k, v);
    const back = await signInAndDecide(new UserAgent(), issuer, url, alice);
    return back.searchParams.get('code')!;
  }
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const token = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) });
  const expectError = async (response: Response, status: number, error: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ error });
  };

  it('answers a wrong client secret over Basic with 401 invalid_client and a Basic challenge', async () => {
    const response = await token({ grant_type: 'authorization_code', code: 'x', code_verifier: verifier }, { authorization: basic('web', 'wrong') });
    await expectError(response, 401, 'invalid_client');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('refuses a confidential client that sends no secret, and a client using a method it did not register', async () => {
    await expectError(await token({ grant_type: 'authorization_code', client_id: 'web', code: 'x', code_verifier: verifier }), 401, 'invalid_client');
    await expectError(await token({ grant_type: 'authorization_code', client_id: 'web', client_secret: web.clientSecret!, code: 'x', code_verifier: verifier }), 401, 'invalid_client');
  });

  it.each([
    ['a missing grant_type', {}, 400, 'invalid_request'],
    ['an unsupported grant_type', { grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ['a missing code', { grant_type: 'authorization_code', code_verifier: verifier }, 400, 'invalid_request'],
    ['a missing code_verifier', { grant_type: 'authorization_code', code: 'x' }, 400, 'invalid_request'],
    ['an unknown code', { grant_type: 'authorization_code', code: 'not-a-code', code_verifier: verifier }, 400, 'invalid_grant'],
  ])('answers %s with the RFC 6749 error', async (_what, fields, status, error) => {
    await expectError(await token(fields as Record<string, string>, { authorization: basic('web', web.clientSecret!) }), status, error);
  });

  it('refuses a JSON body and a repeated parameter with invalid_request', async () => {
    const json = await fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic('web', web.clientSecret!) }, body: '{}' });
    await expectError(json, 400, 'invalid_request');
    const repeated = await fetch(`${issuer}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('web', web.clientSecret!) },
      body: 'grant_type=authorization_code&grant_type=authorization_code&code=x&code_verifier=y',
    });
    await expectError(repeated, 400, 'invalid_request');
  });

  it('refuses a wrong code_verifier and a wrong redirect_uri with invalid_grant', async () => {
    const code = await freshCode();
    const auth = { authorization: basic('web', web.clientSecret!) };
    await expectError(await token({ grant_type: 'authorization_code', code, code_verifier: 'x'.repeat(43), redirect_uri: web.redirectUri }, auth), 400, 'invalid_grant');
    const code2 = await freshCode();
    await expectError(await token({ grant_type: 'authorization_code', code: code2, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:9/other' }, auth), 400, 'invalid_grant');
  });

  it('accepts client_secret_post for a client registered with it', async () => {
    const { clientSecret } = await system.as.admin.registerClient({
      clientId: 'post2', name: 'Post 2', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/post2'], scopes: ['profile'], tokenEndpointAuthMethod: 'client_secret_post',
    });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const client = { clientId: 'post2', clientSecret, redirectUri: 'http://127.0.0.1:9/post2' };
    const url = new URL(`${issuer}/authorize`);
    for (const [k, v] of Object.entries({ ...valid, client_id: 'post2', redirect_uri: client.redirectUri })) url.searchParams.set(k, v);
    const code = (await signInAndDecide(new UserAgent(), issuer, url, alice)).searchParams.get('code')!;
    const response = await token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: 'post2', client_secret: clientSecret! });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('redeems one code once when twenty requests race for it: one token, nineteen invalid_grant', async () => {
    const code = await freshCode();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: web.redirectUri }, { authorization: basic('web', web.clientSecret!) }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
    for (const r of responses.filter((r) => r.status === 400)) expect(((await r.json()) as { error: string }).error).toBe('invalid_grant');
    const issued = (await system.as.store.readAll(0, 100_000)).filter((e) => e.type === 'AccessTokenIssued');
    const grantId = code.split('.')[0];
    expect(issued.filter((e) => e.data.grantId === grantId)).toHaveLength(1);
    // The losers are indistinguishable from a replay (RFC 6749 section 4.1.2): the grant is revoked once.
    const grantEvents = (await system.as.store.readStream(`grant-${grantId}`)).map((e) => e.type);
    expect(grantEvents.filter((t) => t === 'GrantRevoked')).toHaveLength(1);
  });

  it('answers an unknown path with 404 and a wrong method with 405, never 500', async () => {
    expect((await fetch(`${issuer}/nowhere`)).status).toBe(404);
    expect((await fetch(`${issuer}/token`)).status).toBe(405);
  });
});

describe('resource server (RFC 6750)', () => {
  let accessToken: string;
  beforeAll(async () => {
    ({ tokens: { access_token: accessToken } } = await runCodeFlow(issuer, web, alice, 'profile'));
    await system.rs.projections.waitFor(await system.as.store.headPosition());
  });
  const call = (path: string, authorization?: string) => fetch(`${rsUrl}${path}`, { headers: authorization ? { authorization } : {} });

  it('serves the profile for a token with the profile scope', async () => {
    expect((await call('/api/profile', `Bearer ${accessToken}`)).status).toBe(200);
  });

  it('asks for a token when none is sent', async () => {
    const response = await call('/api/profile');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="resource-server"');
  });

  it('answers 403 insufficient_scope for a token without the scope', async () => {
    const response = await call('/api/items', `Bearer ${accessToken}`);
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="items:read"/);
  });

  it.each([
    ['garbage', 'Bearer not.a.jwt'],
    ['a tampered payload', () => { const [h, , s] = accessToken.split('.'); return `Bearer ${h}.${Buffer.from('{"sub":"x","scope":"profile"}').toString('base64url')}.${s}`; }],
  ])('answers 401 invalid_token for %s', async (_what, header) => {
    const response = await call('/api/profile', typeof header === 'function' ? header() : header);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('refuses tokens signed by a key it does not know, of the wrong typ, for another audience, or expired', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const claims = { iss: issuer, aud: rsUrl, sub: 'x', client_id: 'web', scope: 'profile', jti: 'j' };
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'unknown' }).setIssuedAt().setExpirationTime('5m').sign(privateKey);
    expect((await call('/api/profile', `Bearer ${forged}`)).status).toBe(401);

    // Sign with the server's own key to show each check stands on its own.
    const kid = JSON.parse(Buffer.from(accessToken.split('.')[0], 'base64url').toString()).kid;
    const own = (c: object, typ = 'at+jwt', exp: string | number = '5m') =>
      system.as.ports.signer.sign(c as never, kid).then(() =>
        new SignJWT(c as never).setProtectedHeader({ alg: 'ES256', typ, kid }).setIssuedAt().setExpirationTime(exp),
      );
    const key = await import('jose').then((j) => j.importJWK(JSON.parse(system.as.ports.secrets.get('signing_key', kid)!), 'ES256'));
    for (const token of [
      await (await own(claims, 'JWT')).sign(key),
      await (await own({ ...claims, aud: 'https://other.example' })).sign(key),
      await (await own({ ...claims, iss: 'https://other.example' })).sign(key),
      await (await own(claims, 'at+jwt', Math.floor(Date.now() / 1000) - 120)).sign(key),
    ]) {
      const response = await call('/api/profile', `Bearer ${token}`);
      expect(response.status).toBe(401);
    }
    // The same construction with every claim right is accepted, so the refusals above are the checks at work.
    expect((await call('/api/profile', `Bearer ${await (await own(claims)).sign(key)}`)).status).toBe(200);
  });

  it('answers a malformed Authorization header with 400 invalid_request', async () => {
    const response = await call('/api/profile', 'Basic abc');
    expect(response.status).toBe(400);
    expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_request"/);
  });
});

it('uses oauth4webapi: the error of a refused token request reaches it as a ResponseBodyError', async () => {
  const as = await discover(issuer);
  const client = { client_id: 'web' };
  const callback = oauth.validateAuthResponse(as, client, new URL(`${web.redirectUri}&code=bogus&state=s&iss=${encodeURIComponent(issuer)}`), 's');
  const response = await oauth.authorizationCodeGrantRequest(
    as, client, oauth.ClientSecretBasic(web.clientSecret!), callback, web.redirectUri, verifier,
    { [oauth.allowInsecureRequests]: true },
  );
  await expect(oauth.processAuthorizationCodeResponse(as, client, response)).rejects.toMatchObject({ error: 'invalid_grant' });
});
