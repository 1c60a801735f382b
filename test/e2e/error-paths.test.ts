import { authorizationUrl, discover, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import type { TestSystem } from '../support/system.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';
import { alice, challenge, startErrorPathsSystem, validAuthorization } from '../support/error-paths-system.js';

const dir = tempDir();
let system: TestSystem;
let issuer: string;
let web: FlowClient;
const valid = validAuthorization;

beforeAll(async () => {
  ({ system, issuer, web } = await startErrorPathsSystem(dir.path));
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

const authorize = (params: Record<string, string>, raw = '') =>
  fetch(`${issuer}/authorize?${new URLSearchParams(params)}${raw}`, { redirect: 'manual' });
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
