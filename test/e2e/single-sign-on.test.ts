import * as oauth from 'oauth4webapi';
import { actorOf } from '../../src/audit/history.js';
import { sha256 } from '../../src/domain/crypto.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { authorizationUrl, clientAuth, discover, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

const alice = { username: 'alice', password: 'correct horse battery' };

/**
 * Single sign-on: after one password sign-in the browser stays signed in, and later
 * authorization requests go straight to consent, unless the client asks for a fresh
 * sign-in (prompt=login, max_age) or the user signed out or was disabled; and straight
 * back to the client when the user already let it have those scopes.
 */
describe('sign-in sessions', () => {
  const dir = tempDir();
  let system: TestSystem;
  let client: FlowClient;
  let as: oauth.AuthorizationServer;
  let issuer: string;
  let userId: string;

  beforeAll(async () => {
    system = await startSystem(dir.path);
    issuer = system.config.issuer;
    ({ userId } = await system.as.admin.registerUser({ ...alice, name: 'Alice' }));
    await system.as.admin.registerUser({ username: 'mallory', password: 'mallory password 1', name: 'Mallory' });
    client = await registerWebClient(system, ['profile', 'items:read']);
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    as = await discover(issuer);
  });
  afterAll(async () => {
    await system.close();
    dir.remove();
  });

  const events = async (): Promise<RecordedEvent[]> => system.as.store.readAll(0, 100_000);
  /** A user of their own, with no consent given yet. */
  async function newUser(username: string) {
    const user = { username, password: `${username} password 1` };
    const { userId: id } = await system.as.admin.registerUser({ ...user, name: username });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    return { ...user, userId: id };
  }
  const streamOf = async (stream: string) => (await events()).filter((e) => e.stream === stream);

  /** A browser that has signed in once with its password (the flow is carried to the token). */
  async function signedInBrowser(credentials = alice, scope?: string): Promise<UserAgent> {
    const browser = new UserAgent();
    const { url, state, codeVerifier } = await authorizationUrl(as, client, scope);
    await exchange(await signInAndDecide(browser, issuer, url, credentials), state, codeVerifier);
    expect(browser.cookies.get('as_signin')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return browser;
  }

  async function exchange(callback: URL, state: string, codeVerifier: string) {
    const oauthClient = { client_id: client.clientId };
    const params = oauth.validateAuthResponse(as, oauthClient, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, oauthClient, clientAuth(client), params, client.redirectUri, codeVerifier, {
      [oauth.allowInsecureRequests]: true,
    });
    return oauth.processAuthorizationCodeResponse(as, oauthClient, response);
  }

  /**
   * The authorization request, and where this server sends the browser first. With
   * prompt=consent unless told otherwise, so that a signed-in browser shows the consent
   * page instead of the consent it gave before (tested on its own below).
   */
  async function authorize(browser: UserAgent, extra: Record<string, string> = {}, scope?: string) {
    const request = await authorizationUrl(as, client, scope);
    for (const [name, value] of Object.entries({ prompt: 'consent', ...extra })) if (value !== '') request.url.searchParams.set(name, value);
    const answer = await browser.get(request.url.toString());
    expect(answer.status).toBe(303);
    return { ...request, next: location(answer, issuer) };
  }

  async function consent(browser: UserAgent, consentUrl: URL): Promise<URL> {
    const page = await browser.get(consentUrl.toString());
    expect(page.status).toBe(200);
    const answer = await browser.postForm(`${issuer}/consent`, { ...hiddenFields(await page.text()), decision: 'approve' });
    return location(answer, issuer);
  }

  it('sends a signed-in browser straight to consent, and a strict client gets its tokens for the same user', async () => {
    const browser = await signedInBrowser();
    const { next, state, codeVerifier } = await authorize(browser);
    expect(next.pathname).toBe('/consent');
    const tokens = await exchange(await consent(browser, next), state, codeVerifier);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString());
    expect(claims.sub).toBe(userId);

    // On record: which sign-in session stood in for the password, by its hash only.
    const cookie = browser.cookies.get('as_signin')!;
    const grantId = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()).jti.split('.')[0];
    const authenticated = (await streamOf(`grant-${grantId}`)).find((e) => e.type === 'UserAuthenticated')!;
    const session = await streamOf(`session-${sha256(cookie)}`);
    expect(session.map((e) => e.type)).toEqual(['SignInSessionStarted']);
    expect(session[0].data).toMatchObject({ userId, username: 'alice', expiresAt: expect.any(String), authTime: expect.any(String) });
    // The time the password was given, the session's, is the authorization's auth time (OpenID Connect auth_time).
    expect(authenticated.data).toEqual({ grantId, userId, username: 'alice', method: 'session', signInSessionId: sha256(cookie), authTime: session[0].data.authTime });
    expect(JSON.stringify(await events())).not.toContain(cookie);
  });

  it('sets the cookie HttpOnly, SameSite=Lax, for as long as the session lasts', async () => {
    const browser = new UserAgent();
    const { next } = await authorize(browser);
    const page = await browser.get(next.toString());
    const login = await fetch(`${issuer}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `as_session=${browser.cookies.get('as_session')}` },
      body: new URLSearchParams({ ...hiddenFields(await page.text()), ...alice }).toString(),
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.getSetCookie().find((c) => c.startsWith('as_signin='));
    expect(cookie).toMatch(/^as_signin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800$/);
  });

  it('asks for the password again on prompt=login or when max_age has passed, and the new session replaces the old', async () => {
    const browser = await signedInBrowser();
    const first = browser.cookies.get('as_signin')!;
    expect((await authorize(browser, { max_age: '3600' })).next.pathname).toBe('/consent');
    expect((await authorize(browser, { max_age: '0' })).next.pathname).toBe('/login');
    expect((await authorize(browser, { prompt: 'login' })).next.pathname).toBe('/login');

    const { url } = await authorizationUrl(as, client);
    url.searchParams.set('prompt', 'login');
    await signInAndDecide(browser, issuer, url, alice);
    const second = browser.cookies.get('as_signin')!;
    expect(second).not.toBe(first);
    expect((await streamOf(`session-${sha256(first)}`)).map((e) => [e.type, e.data.reason])).toEqual([
      ['SignInSessionStarted', undefined],
      ['SignInSessionEnded', 'replaced'],
    ]);
    // The replaced cookie, wherever it still is, signs nobody in.
    const stale = new UserAgent();
    stale.cookies.set('as_signin', first);
    expect((await authorize(stale)).next.pathname).toBe('/login');
    expect((await authorize(browser)).next.pathname).toBe('/consent');
  });

  it('answers prompt=none at the redirect URI: login_required when nobody is signed in, consent_required when the scopes were never allowed', async () => {
    const stranger = await authorize(new UserAgent(), { prompt: 'none' });
    expect(stranger.next.origin + stranger.next.pathname).toBe(client.redirectUri);
    expect(Object.fromEntries(stranger.next.searchParams)).toMatchObject({ error: 'login_required', state: stranger.state, iss: issuer });

    const before = (await events()).length;
    const narrow = await authorize(await signedInBrowser(await newUser('nina'), 'profile'), { prompt: 'none' }, 'profile items:read');
    expect(Object.fromEntries(narrow.next.searchParams)).toMatchObject({ error: 'consent_required', state: narrow.state, iss: issuer });
    // A silent request that cannot succeed leaves no grant behind (only the sign-in's own events).
    expect((await events()).slice(before).filter((e) => e.type === 'AuthorizationRequested')).toHaveLength(1);
  });

  it('remembers consent: a signed-in browser asking for scopes the user already allowed this client goes straight back with a code', async () => {
    const rita = await newUser('rita');
    const browser = await signedInBrowser(rita, 'profile items:read');
    // The consent that stands in is the user's most recent grant to this client covering the scopes.
    let latest = (await events()).filter((e) => e.type === 'ConsentGranted').at(-1)!.data.grantId;
    for (const prompt of ['', 'none']) {
      await system.as.readSide.waitFor(await system.as.store.headPosition());
      const { next, state, codeVerifier } = await authorize(browser, { prompt }, 'profile');
      expect(next.origin + next.pathname).toBe(client.redirectUri);
      const tokens = await exchange(next, state, codeVerifier);
      expect(tokens.scope).toBe('profile');
      const grantId = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()).jti.split('.')[0];
      const grant = await streamOf(`grant-${grantId}`);
      expect(grant.map((e) => e.type).slice(0, 4)).toEqual(['AuthorizationRequested', 'UserAuthenticated', 'ConsentGranted', 'AuthorizationCodeIssued']);
      expect(grant[2]).toMatchObject({ schemaVersion: 3, data: { userId: rita.userId, clientId: client.clientId, scopes: ['profile'], rememberedFrom: latest } });
      latest = grantId;
    }
  });

  it('asks again for scopes not allowed yet, on prompt=consent, and once the application was revoked on the account page', async () => {
    const browser = await signedInBrowser(await newUser('otto'), 'profile');
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    expect((await authorize(browser, { prompt: '' }, 'profile items:read')).next.pathname).toBe('/consent');
    expect((await authorize(browser, { prompt: 'consent' }, 'profile')).next.pathname).toBe('/consent');
    expect((await authorize(browser, { prompt: '' }, 'profile')).next.origin).toBe(new URL(client.redirectUri).origin);

    const page = await (await browser.get(`${issuer}/account`)).text();
    const row = page.slice(page.indexOf(`data-client="${client.clientId}"`));
    expect((await browser.postForm(`${issuer}/account/grants/revoke`, hiddenFields(row.slice(0, row.indexOf('</form>'))))).status).toBe(303);
    expect((await authorize(browser, { prompt: '' }, 'profile')).next.pathname).toBe('/consent');
  });

  it('refuses prompt values it cannot honour and a malformed max_age with invalid_request at the redirect URI', async () => {
    const refused: Array<Record<string, string>> = [{ prompt: 'create' }, { prompt: 'none login' }, { max_age: 'soon' }];
    for (const extra of refused) {
      const { next, state } = await authorize(new UserAgent(), extra);
      expect(Object.fromEntries(next.searchParams)).toMatchObject({ error: 'invalid_request', state });
    }
  });

  it('signs out: the session ends on record, the cookie is cleared, and the next authorization asks for the password', async () => {
    const browser = await signedInBrowser();
    const cookie = browser.cookies.get('as_signin')!;
    const page = await browser.get(`${issuer}/logout`);
    expect(page.status).toBe(200);
    const fields = hiddenFields(await page.text());

    const forged = await browser.postForm(`${issuer}/logout`, { csrf: 'x'.repeat(43) });
    expect(forged.status).toBe(400);
    expect((await authorize(browser)).next.pathname).toBe('/consent');

    const signedOut = await browser.postForm(`${issuer}/logout`, fields);
    expect(signedOut.status).toBe(200);
    expect(browser.cookies.get('as_signin')).toBe('');
    expect((await streamOf(`session-${sha256(cookie)}`)).at(-1)).toMatchObject({ type: 'SignInSessionEnded', data: { reason: 'signed_out' } });
    const stale = new UserAgent();
    stale.cookies.set('as_signin', cookie);
    expect((await authorize(stale)).next.pathname).toBe('/login');
  });

  it('signs the browser out of the server as a whole when the user signs out of the account page', async () => {
    const browser = await signedInBrowser();
    const accountPage = await browser.get(`${issuer}/account`);
    const signedIn = await browser.postForm(`${issuer}/account/login`, { ...hiddenFields(await accountPage.text()), ...alice });
    expect(signedIn.status).toBe(303);
    const page = await browser.get(`${issuer}/account`);
    expect(await page.clone().text()).toContain('Applications that can act for you');
    const csrf = hiddenFields(await page.text()).csrf;
    expect((await browser.postForm(`${issuer}/account/logout`, { csrf })).status).toBe(303);
    expect((await authorize(browser)).next.pathname).toBe('/login');
  });

  it('is the account page\'s session too: signed in by an authorization, the page needs no password, and the other way round', async () => {
    const browser = await signedInBrowser();
    const page = await (await browser.get(`${issuer}/account`)).text();
    expect(page).toContain('Applications that can act for you');
    expect(page).not.toContain('name="password"');

    const other = new UserAgent();
    const loginForm = hiddenFields(await (await other.get(`${issuer}/account`)).text());
    expect((await other.postForm(`${issuer}/account/login`, { ...loginForm, ...alice })).status).toBe(303);
    const started = (await events()).filter((e) => e.type === 'SignInSessionStarted').at(-1)!;
    expect(started.stream).toBe(`session-${sha256(other.cookies.get('as_signin')!)}`);
    expect(started.data.grantId).toBeNull();
    expect((await authorize(other)).next.pathname).toBe('/consent');
  });

  it('lists the browsers the user is signed in on, and signs out another one from the account page', async () => {
    const sofia = await newUser('sofia');
    const laptop = await signedInBrowser(sofia);
    const phone = await signedInBrowser(sofia);
    const phoneSession = sha256(phone.cookies.get('as_signin')!);
    const laptopSession = sha256(laptop.cookies.get('as_signin')!);
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const sessionsTable = (html: string) => html.slice(html.indexOf('id="sign-in-sessions"'), html.indexOf('</table>', html.indexOf('id="sign-in-sessions"')));

    const table = sessionsTable(await (await laptop.get(`${issuer}/account`)).text());
    expect(table.match(/<tr/g)).toHaveLength(3);
    expect(table.match(/This browser/g)).toHaveLength(1);
    // The other browser's row names its session (the cookie's hash) for the form; this browser's has no form.
    expect(hiddenFields(table)).toEqual({ csrf: expect.any(String), session: phoneSession });
    expect(table).not.toContain(laptopSession);

    // Someone else, signed in and knowing the id, gets the answer a session that never was gets.
    const intruder = await signedInBrowser(await newUser('ivan'));
    const intruderCsrf = hiddenFields(await (await intruder.get(`${issuer}/account`)).text()).csrf;
    expect(intruderCsrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const session of [phoneSession, sha256('no such cookie'), 'not an id']) {
      const refused = await intruder.postForm(`${issuer}/account/sign-in-sessions/end`, { csrf: intruderCsrf, session });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toMatch(session === 'not an id' ? /session is required/ : /no such sign-in session/);
    }
    // A forged form (no CSRF token of the laptop's) ends nothing either.
    expect((await laptop.postForm(`${issuer}/account/sign-in-sessions/end`, { csrf: intruderCsrf, session: phoneSession })).status).toBe(400);
    expect((await authorize(phone)).next.pathname).toBe('/consent');

    expect((await laptop.postForm(`${issuer}/account/sign-in-sessions/end`, hiddenFields(table))).status).toBe(303);
    expect((await streamOf(`session-${phoneSession}`)).at(-1)).toMatchObject({
      type: 'SignInSessionEnded',
      schemaVersion: 2,
      data: { userId: sofia.userId, reason: 'signed_out_elsewhere' },
    });
    expect((await authorize(phone)).next.pathname).toBe('/login');
    expect((await authorize(laptop)).next.pathname).toBe('/consent');
    const after = sessionsTable(await (await laptop.get(`${issuer}/account`)).text());
    expect(after.match(/<tr/g)).toHaveLength(2);
    expect(after).not.toContain(phoneSession);
  });

  it('no longer signs in a user who was disabled, and ends their sign-in sessions on record', async () => {
    const browser = await signedInBrowser({ username: 'mallory', password: 'mallory password 1' });
    expect((await authorize(browser)).next.pathname).toBe('/consent');
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    expect(await system.as.admin.disableUser('mallory')).toMatchObject({ endedSignInSessions: 1 });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    expect((await authorize(browser)).next.pathname).toBe('/login');
    const ended = (await streamOf(`session-${sha256(browser.cookies.get('as_signin')!)}`)).at(-1)!;
    expect(ended).toMatchObject({ type: 'SignInSessionEnded', data: { reason: 'user_disabled' } });
    // The audit history names who ended it: the administrator, not the user.
    expect(actorOf(ended)).toBe('admin');
    expect(await system.as.admin.disableUser('mallory')).toMatchObject({ endedSignInSessions: 0 });
  });
});
