import * as oauth from 'oauth4webapi';
import { tempDir } from '../../src/dev/temp-dir.js';
import { authorizationUrl, discover, runCodeFlow, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

/**
 * The defects an adversarial review of the landed server found (issue 18) that concern
 * browsers, sessions and what the record keeps, each as the attacker's request (the
 * client ones are in security-review-clients.test.ts): every test here failed before its fix.
 */
const dir = tempDir();
let system: TestSystem;
let issuer: string;
let web: FlowClient;
let as: oauth.AuthorizationServer;
let aliceId: string;
const alice = { username: 'alice', password: 'correct horse battery' };

beforeAll(async () => {
  system = await startSystem(dir.path, { env: { AUTHORIZATION_LIMIT_PER_CLIENT: '4', AUTHORIZATION_LIMIT_PER_USER: '6', MAX_SIGN_IN_SESSIONS_PER_USER: '3' } });
  issuer = system.config.issuer;
  ({ userId: aliceId } = await system.as.admin.registerUser({ ...alice, name: 'Alice' }));
  web = await registerWebClient(system, ['profile', 'items:read']);
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  as = await discover(issuer);
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

const events = () => system.as.store.readAll(0, 1_000_000);
const caughtUp = async () => system.as.readSide.waitFor(await system.as.store.headPosition());

async function newUser(username: string) {
  const user = { username, password: `${username} password 1` };
  const { userId } = await system.as.admin.registerUser({ ...user, name: username });
  await caughtUp();
  return { ...user, userId };
}

/** A browser stopped on the consent page, signed in with the password for this authorization. */
async function atConsent(credentials: { username: string; password: string }, browser = new UserAgent(), scope = 'profile') {
  const { url, state } = await authorizationUrl(as, web, scope);
  const toLogin = await browser.get(url.toString());
  const sessionAtRequest = browser.cookies.get('as_session');
  const loginPage = await browser.get(location(toLogin, issuer).toString());
  const login = await browser.postForm(`${issuer}/login`, { ...hiddenFields(await loginPage.text()), ...credentials });
  expect(login.status).toBe(303);
  const consentUrl = location(login, issuer).toString();
  const consentPage = await browser.get(consentUrl);
  expect(consentPage.status).toBe(200);
  return { browser, consentUrl, form: hiddenFields(await consentPage.text()), state, sessionAtRequest };
}

/** The consent page and the decision, after something ended the sign-in: refused, and nothing recorded. */
async function expectNoCodeAfter(pending: Awaited<ReturnType<typeof atConsent>>) {
  const before = await system.as.store.headPosition();
  const page = await pending.browser.get(pending.consentUrl);
  expect(page.status).toBe(400);
  const decision = await pending.browser.postForm(`${issuer}/consent`, { ...pending.form, decision: 'approve' });
  expect(decision.status).toBe(400);
  expect(decision.headers.get('location')).toBeNull();
  const recorded = (await system.as.store.readAll(before, 1000)).map((e) => e.type);
  expect(recorded).not.toContain('AuthorizationCodeIssued');
  expect(recorded).not.toContain('ConsentGranted');
}

describe('1. a consent page opened before a sign-out gives no code after it', () => {
  it('after signing out in the same browser (whose browser session is replaced)', async () => {
    const pending = await atConsent(alice);
    const sessionBefore = pending.browser.cookies.get('as_session');
    const logoutPage = await pending.browser.get(`${issuer}/logout`);
    expect((await pending.browser.postForm(`${issuer}/logout`, hiddenFields(await logoutPage.text()))).status).toBe(200);
    expect(pending.browser.cookies.get('as_session')).toMatch(/^[\w-]{43}\.[\w-]{43}$/);
    expect(pending.browser.cookies.get('as_session')).not.toBe(sessionBefore);
    await expectNoCodeAfter(pending);
    // Even presenting the old browser session again (a shared computer's earlier cookie) does not help.
    pending.browser.cookies.set('as_session', sessionBefore!);
    await expectNoCodeAfter(pending);
  });

  it('after being signed out from another browser on the account page', async () => {
    const pending = await atConsent(alice);
    const other = new UserAgent();
    const accountLogin = await other.get(`${issuer}/account`);
    expect((await other.postForm(`${issuer}/account/login`, { ...hiddenFields(await accountLogin.text()), ...alice })).status).toBe(303);
    const account = await (await other.get(`${issuer}/account`)).text();
    const forms = [...account.matchAll(/action="\/account\/sign-in-sessions\/end"><input type="hidden" name="csrf" value="([^"]+)"><input type="hidden" name="session" value="([^"]+)">/g)];
    expect(forms.length).toBeGreaterThan(0);
    for (const [, csrf, session] of forms) expect((await other.postForm(`${issuer}/account/sign-in-sessions/end`, { csrf, session })).status).toBe(303);
    await expectNoCodeAfter(pending);
  });

  it('after the user was disabled, with nothing recorded for the grant', async () => {
    const carol = await newUser('carol');
    const pending = await atConsent(carol);
    await system.as.admin.disableUser('carol');
    await caughtUp();
    await expectNoCodeAfter(pending);
  });

  it('with sign-in sessions turned off, after the user was disabled or the browser signed out', async () => {
    const offDir = tempDir();
    const off = await startSystem(offDir.path, { env: { SIGN_IN_SESSION_TTL: '0' } });
    try {
      await off.as.admin.registerUser({ username: 'dave', password: 'dave password 1', name: 'Dave' });
      const client = await registerWebClient(off);
      await off.as.readSide.waitFor(await off.as.store.headPosition());
      const at = off.config.issuer;
      const consentOf = async () => {
        const browser = new UserAgent();
        const { url } = await authorizationUrl(await discover(at), client, 'profile');
        const loginPage = await browser.get(location(await browser.get(url.toString()), at).toString());
        const login = await browser.postForm(`${at}/login`, { ...hiddenFields(await loginPage.text()), username: 'dave', password: 'dave password 1' });
        return { browser, url: location(login, at).toString() };
      };
      const signedOut = await consentOf();
      const logoutPage = await signedOut.browser.get(`${at}/logout`);
      await signedOut.browser.postForm(`${at}/logout`, hiddenFields(await logoutPage.text()));
      expect((await signedOut.browser.get(signedOut.url)).status).toBe(400);
      const disabled = await consentOf();
      expect((await disabled.browser.get(disabled.url)).status).toBe(200);
      await off.as.admin.disableUser('dave');
      await off.as.readSide.waitFor(await off.as.store.headPosition());
      expect((await disabled.browser.get(disabled.url)).status).toBe(400);
    } finally {
      await off.close();
      offDir.remove();
    }
  });
});

describe('3. a signed-in browser cannot grow the store at line rate', () => {
  it('bounds authorizations per user and client, and per user, at the redirect URI, across instances', async () => {
    const erin = await newUser('erin');
    const browser = new UserAgent();
    // Instances of one deployment share its configuration: the resource server they issue tokens for among it.
    const second = await startSystem(dir.path, { env: { AUTHORIZATION_LIMIT_PER_CLIENT: '4', AUTHORIZATION_LIMIT_PER_USER: '6', RS_URL: system.config.resourceServerUrl } });
    try {
      // The first authorization asks for consent; the next ones are remembered.
      const { url } = await authorizationUrl(as, web, 'profile');
      expect((await signInAndDecide(browser, issuer, url, erin)).searchParams.get('code')).toBeTruthy();
      await second.as.readSide.waitFor(await second.as.store.headPosition());
      // Each instance counts from the record, through its read side: once both have read
      // what the other appended (a poll interval at most), they count the same.
      const bothCaughtUp = async () => {
        const head = await system.as.store.headPosition();
        await Promise.all([system.as.readSide.waitFor(head), second.as.readSide.waitFor(head)]);
      };
      const authorize = async (at: string, client: FlowClient = web) => {
        const { url: next } = await authorizationUrl(as, client, 'profile');
        const answer = location(await browser.get(next.toString().replace(issuer, at)), at);
        await bothCaughtUp();
        return answer;
      };
      // Alternating instances: the count is the record's, whichever instance appended.
      const instances = [issuer, second.config.issuer, issuer, second.config.issuer, issuer];
      const answers = [];
      for (const at of instances) answers.push(await authorize(at));
      expect(answers.slice(0, 3).map((u) => u.searchParams.has('code'))).toEqual([true, true, true]);
      for (const [i, answer] of answers.entries()) {
        if (i < 3) continue;
        expect(`${answer.origin}${answer.pathname}`).toBe(web.redirectUri);
        expect(answer.searchParams.get('error')).toBe('temporarily_unavailable');
        expect(answer.searchParams.get('iss')).toBe(instances[i]);
      }
      const before = await system.as.store.headPosition();
      for (let i = 0; i < 20; i++) expect((await authorize(issuer)).searchParams.get('error')).toBe('temporarily_unavailable');
      expect(await system.as.store.headPosition()).toBe(before);

      // Per user in all: another client gets what is left of the user's six.
      const other = await system.as.admin.registerClient({ clientId: 'other-app', name: 'Other', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/other'], scopes: ['profile'] });
      await caughtUp();
      const otherClient = { clientId: 'other-app', clientSecret: other.clientSecret, redirectUri: 'http://127.0.0.1:9/other' };
      const { url: otherUrl } = await authorizationUrl(as, otherClient, 'profile');
      const consentPage = await browser.get(location(await browser.get(otherUrl.toString()), issuer).toString());
      const approved = location(await browser.postForm(`${issuer}/consent`, { ...hiddenFields(await consentPage.text()), decision: 'approve' }), issuer);
      expect(approved.searchParams.has('code')).toBe(true);
      await bothCaughtUp();
      // That was the user's fifth; the sixth is the last, whichever client asks.
      expect((await authorize(issuer, otherClient)).searchParams.has('code')).toBe(true);
      expect((await authorize(issuer, otherClient)).searchParams.get('error')).toBe('temporarily_unavailable');
    } finally {
      await second.close();
    }
  });

  it('refuses a state longer than 2048 characters at the redirect URI, before anything is recorded', async () => {
    const { url } = await authorizationUrl(as, web, 'profile');
    url.searchParams.set('state', 's'.repeat(2049));
    const refused = location(await new UserAgent().get(url.toString()), issuer);
    expect(refused.searchParams.get('error')).toBe('invalid_request');
    expect(refused.searchParams.get('error_description')).toBe('state must be at most 2048 characters');
  });
});

describe('5. the browser session is the server\'s to make', () => {
  it('replaces a planted value, and a new one at every sign-in: forms made for the old one are refused', async () => {
    const browser = new UserAgent();
    const planted = `${'a'.repeat(43)}.${'b'.repeat(43)}`;
    browser.cookies.set('as_session', planted);
    const page = await browser.get(`${issuer}/account`);
    expect(browser.cookies.get('as_session')).not.toBe(planted);
    browser.cookies.set('as_session', 'c'.repeat(43));
    await browser.get(`${issuer}/account`);
    expect(browser.cookies.get('as_session')).toMatch(/^[\w-]{43}\.[\w-]{43}$/);

    // An attacker's own session and its form: worth nothing once the victim signs in.
    const before = browser.cookies.get('as_session')!;
    const form = hiddenFields(await (await browser.get(`${issuer}/account`)).text());
    expect(page.status).toBe(200);
    expect((await browser.postForm(`${issuer}/account/login`, { ...form, ...alice })).status).toBe(303);
    expect(browser.cookies.get('as_session')).not.toBe(before);
    const stale = await browser.postForm(`${issuer}/account/logout`, form);
    expect(stale.status).toBe(400);
    // A password typed for an authorization starts a new browser session too.
    const pending = await atConsent(alice);
    expect(pending.sessionAtRequest).toMatch(/^[\w-]{43}\.[\w-]{43}$/);
    expect(pending.browser.cookies.get('as_session')).not.toBe(pending.sessionAtRequest);
  });
});

describe('10. what the request chose is never passed off as the server\'s', () => {
  it('names no request text in error descriptions at the redirect URI', async () => {
    const { url } = await authorizationUrl(as, web, 'profile');
    url.searchParams.set('prompt', 'Your-account-is-locked-call-555-0100');
    const prompt = location(await fetch(url, { redirect: 'manual' }), issuer);
    expect(prompt.searchParams.get('error')).toBe('invalid_request');
    expect(prompt.searchParams.get('error_description')).not.toContain('555');
    const repeated = new URL(url);
    repeated.searchParams.delete('prompt');
    repeated.searchParams.append('Visit-evil-example-to-continue', '1');
    repeated.searchParams.append('Visit-evil-example-to-continue', '2');
    const answer = location(await fetch(repeated, { redirect: 'manual' }), issuer);
    expect(answer.searchParams.get('error')).toBe('invalid_request');
    expect(answer.searchParams.get('error_description')).not.toContain('evil');
  });

  it('keeps a caller\'s X-Request-Id after an id of its own, in the answer and on record', async () => {
    const { tokens } = await runCodeFlow(issuer, web, alice, 'profile');
    const before = await system.as.store.headPosition();
    const response = await fetch(`${issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'caller-chosen-id', authorization: `Basic ${Buffer.from(`web:${web.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(response.status).toBe(200);
    const id = response.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}\/caller-chosen-id$/);
    const revoked = (await system.as.store.readAll(before, 100)).find((e) => e.type === 'TokenRevoked')!;
    expect(revoked.correlationId).toBe(id);
  });

  it('caps a user\'s live sign-in sessions, ending the oldest', async () => {
    const frank = await newUser('frank');
    const browsers = [];
    for (let i = 0; i < 4; i++) {
      const { url } = await authorizationUrl(as, web, 'profile');
      const browser = new UserAgent();
      await signInAndDecide(browser, issuer, url, frank);
      browsers.push(browser);
      await caughtUp();
    }
    const ended = (await events()).filter((e) => e.type === 'SignInSessionEnded' && e.data.userId === frank.userId);
    expect(ended.map((e) => e.data.reason)).toEqual(['replaced']);
    // The oldest browser is signed out: its next authorization asks for the password again.
    const { url } = await authorizationUrl(as, web, 'profile');
    url.searchParams.set('prompt', 'consent');
    expect(location(await browsers[0].get(url.toString()), issuer).pathname).toBe('/login');
    expect(location(await browsers[3].get(url.toString()), issuer).pathname).toBe('/consent');
  });

  it('shows nothing of the user or the client\'s state in the login and consent links', async () => {
    const { consentUrl, state } = await atConsent(alice);
    const held = new URL(consentUrl).searchParams.get('request')!;
    // Whatever encoding it might be in: as it is, and each part read as base64url.
    const readings = [held, ...held.split('.').map((part) => Buffer.from(part, 'base64url').toString('latin1'))];
    // Words of five characters or more: a shorter one turns up in random bytes now and then.
    for (const secret of ['alice', aliceId, state, 'profile']) for (const reading of readings) expect(reading).not.toContain(secret);
  });
});

