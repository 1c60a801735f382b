import * as oauth from 'oauth4webapi';
import { DisableUser } from '../../src/commands/registration.commands.js';
import { commandContext } from '../../src/cqrs/command-context.js';
import type { NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { alice, startTokenSuite, stopTokenSuite } from '../support/token-suite.js';
import { clientAuth, runCodeFlow, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import type { TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

const insecure = { [oauth.allowInsecureRequests]: true };
const dir = tempDir();
/** Every secret any test here handled, to look for in the logs at the end. */
const secretsSeen = new Set<string>();
let nats: NatsServer;
let system: TestSystem;
let issuer: string;
let as: oauth.AuthorizationServer;
let web: FlowClient;
let other: FlowClient;

beforeAll(async () => {
  ({ nats, system, issuer, as, web } = await startTokenSuite(dir.path, secretsSeen));
  const b = await system.as.admin.registerClient({ clientId: 'other', name: 'Other', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/other'], scopes: ['profile'] });
  other = { clientId: 'other', clientSecret: b.clientSecret, redirectUri: 'http://127.0.0.1:9/other' };
  await system.as.readSide.waitFor(await system.as.store.headPosition());
});
afterAll(async () => {
  await stopTokenSuite({ system, nats }, secretsSeen);
  dir.remove();
});

/** Until the resource server's projections, fed over NATS, have seen everything appended so far. */
const rsCaughtUp = async () => system.rs.projections.waitFor(await system.as.store.headPosition());
const callRs = (accessToken: string, path = '/api/profile') =>
  fetch(`${system.config.resourceServerUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
const refresh = (client: FlowClient, refreshToken: string) =>
  (secretsSeen.add(refreshToken), oauth.refreshTokenGrantRequest)(as, { client_id: client.clientId }, clientAuth(client), refreshToken, insecure);
const introspect = async (token: string, client: FlowClient = web) =>
  (secretsSeen.add(token), oauth).processIntrospectionResponse(as, { client_id: client.clientId }, await oauth.introspectionRequest(as, { client_id: client.clientId }, clientAuth(client), token, insecure));
const revoke = async (token: string, client: FlowClient = web, hint?: string) =>
  oauth.processRevocationResponse(
    await oauth.revocationRequest(as, { client_id: client.clientId }, clientAuth(client), token, { ...insecure, ...(hint ? { additionalParameters: { token_type_hint: hint } } : {}) }),
  );
const jtiOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).jti as string;
/** The event types on the grant stream of an access token (its jti starts with the grant id). */
const grantEvents = async (accessToken: string) => (await system.as.store.readStream(`grant-${jtiOf(accessToken).split('.')[0]}`)).map((e) => e.type);

describe('refresh tokens', () => {
  it('rotate on every use; the old one then revokes the whole grant, and the resource server refuses its tokens', async () => {
    const { tokens } = await runCodeFlow(issuer, web, alice);
    expect(tokens.refresh_token).toMatch(/^[0-9a-f-]{36}\./);
    const second = await oauth.processRefreshTokenResponse(as, { client_id: 'web' }, await refresh(web, tokens.refresh_token!));
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    expect(second.scope).toBe('profile items:read');
    await rsCaughtUp();
    expect((await callRs(second.access_token)).status).toBe(200);

    const replayed = await refresh(web, tokens.refresh_token!);
    expect(replayed.status).toBe(400);
    expect(await replayed.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await grantEvents(tokens.access_token)).toEqual(expect.arrayContaining(['RefreshTokenRotated', 'RefreshTokenReuseDetected', 'GrantRevoked']));
    // Every token of the grant is dead: the successor refresh token and both access tokens.
    expect((await refresh(web, second.refresh_token!)).status).toBe(400);
    expect(await introspect(second.access_token)).toMatchObject({ active: false });
    await rsCaughtUp();
    expect((await callRs(second.access_token)).status).toBe(401);
    expect((await callRs(tokens.access_token)).status).toBe(401);
  });

  it('may narrow the scope, never widen it', async () => {
    const { tokens } = await runCodeFlow(issuer, web, alice, 'profile');
    const wider = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${web.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, scope: 'profile items:read' }),
    });
    expect(wider.status).toBe(400);
    expect(await wider.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('cannot be used by another client', async () => {
    const { tokens } = await runCodeFlow(issuer, web, alice);
    expect((await refresh(other, tokens.refresh_token!)).status).toBe(400);
    expect((await refresh(web, tokens.refresh_token!)).status).toBe(200);
  });

  it('twenty concurrent refreshes with one token: exactly one succeeds, and no two successors live', async () => {
    const { tokens } = await runCodeFlow(issuer, web, alice);
    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(web, tokens.refresh_token!)));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toBe('invalid_grant');
    }
    const events = await grantEvents(tokens.access_token);
    expect(events.filter((t) => t === 'RefreshTokenRotated')).toHaveLength(1);
    // The losers presented a spent token: to the server that is theft, so the grant is revoked.
    expect(events).toContain('GrantRevoked');
    const successor = ((await ok[0].json()) as { refresh_token: string }).refresh_token;
    expect(await introspect(successor)).toMatchObject({ active: false });
  });
});

describe('authorization code replay', () => {
  it('answers invalid_grant and revokes the tokens issued from the code', async () => {
    const client = { client_id: 'web' };
    const url = new URL(as.authorization_endpoint!);
    const verifier = oauth.generateRandomCodeVerifier();
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'web', redirect_uri: web.redirectUri, scope: 'profile', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })) url.searchParams.set(k, v);
    const callback = oauth.validateAuthResponse(as, client, await signInAndDecide(new UserAgent(), issuer, url, alice), oauth.expectNoState);
    const redeem = () => oauth.authorizationCodeGrantRequest(as, client, clientAuth(web), callback, web.redirectUri, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await redeem());
    await rsCaughtUp();
    expect((await callRs(tokens.access_token)).status).toBe(200);

    const again = await redeem();
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await grantEvents(tokens.access_token)).toEqual(expect.arrayContaining(['AuthorizationCodeReplayDetected', 'GrantRevoked']));
    expect(await introspect(tokens.access_token)).toMatchObject({ active: false });
    expect(await introspect(tokens.refresh_token!)).toMatchObject({ active: false });
    await rsCaughtUp();
    expect((await callRs(tokens.access_token)).status).toBe(401);
  });
});

describe('revocation (RFC 7009) and introspection (RFC 7662)', () => {
  it('revokes an access token: inactive at once in introspection, refused by the resource server once the event arrives', async () => {
    const { tokens } = await runCodeFlow(issuer, web, alice);
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, client_id: 'web', username: 'alice', scope: 'profile items:read', token_type: 'Bearer' });
    await revoke(tokens.access_token, web, 'access_token');
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    await rsCaughtUp();
    const refused = await callRs(tokens.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    // An access token revoked alone leaves the grant's refresh token alive.
    expect(await introspect(tokens.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token' });
    expect(await grantEvents(tokens.access_token)).toContain('TokenRevoked');
  });

  it('revokes a refresh token and with it the grant', async () => {
    const { tokens } = await runCodeFlow(issuer, web, alice);
    await revoke(tokens.refresh_token!, web, 'refresh_token');
    expect(await introspect(tokens.refresh_token!)).toEqual({ active: false });
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect((await refresh(web, tokens.refresh_token!)).status).toBe(400);
  });

  it('answers 200 for unknown tokens and for another client\'s token, which stays active', async () => {
    await revoke('not-a-token');
    await revoke(`${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}.${'A'.repeat(43)}`, web, 'refresh_token');
    const { tokens } = await runCodeFlow(issuer, web, alice);
    await revoke(tokens.access_token, other);
    await revoke(tokens.refresh_token!, other);
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true });
    expect(await introspect(tokens.refresh_token!)).toMatchObject({ active: true });
  });

  it('requires client authentication, and introspection a confidential client', async () => {
    const revokeAnon = await fetch(`${issuer}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' });
    expect(revokeAnon.status).toBe(401);
    const introspectAnon = await fetch(`${issuer}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' });
    expect(introspectAnon.status).toBe(401);
    expect(introspectAnon.headers.get('cache-control')).toBe('no-store');
    const missing = await fetch(`${issuer}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${web.clientSecret}`).toString('base64')}` },
      body: '',
    });
    expect(missing.status).toBe(400);
    expect(await introspect('garbage')).toEqual({ active: false });
  });
});

describe('users manage their grants', () => {
  it('lists each application acting for the user once and revokes all it was given, which the resource server then refuses', async () => {
    // Two authorizations of one application (single sign-on makes them cheap), and another application.
    const flows = [await runCodeFlow(issuer, other, alice, 'profile'), await runCodeFlow(issuer, other, alice, 'profile')];
    const webFlow = await runCodeFlow(issuer, web, alice, 'profile');
    const browser = new UserAgent();
    const loginPage = await browser.get(`${issuer}/account`);
    expect(loginPage.headers.get('x-frame-options')).toBe('DENY');
    const loginFields = hiddenFields(await loginPage.text());
    const wrong = await browser.postForm(`${issuer}/account/login`, { ...loginFields, username: 'alice', password: 'nope nope' });
    expect(wrong.status).toBe(401);
    const login = await browser.postForm(`${issuer}/account/login`, { ...loginFields, ...alice });
    expect(login.status).toBe(303);
    const page = await (await browser.get(location(login, issuer).toString())).text();
    expect(page.match(/data-client="other"/g)).toHaveLength(1);
    expect(page).toMatch(/data-client="other"><td>Other<\/td><td><code>profile<\/code><\/td><td class="services">Resource server<\/td><td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);

    const row = page.slice(page.indexOf('data-client="other"'));
    const revokeForm = hiddenFields(row.slice(0, row.indexOf('</form>')));
    expect(revokeForm.client).toBe('other');
    // Without its CSRF token the revocation is refused.
    expect((await browser.postForm(`${issuer}/account/grants/revoke`, { client: 'other' })).status).toBe(400);
    // Another user's session cannot revoke it either: a fresh browser has none.
    expect((await new UserAgent().postForm(`${issuer}/account/grants/revoke`, revokeForm)).status).toBe(400);
    const revoked = await browser.postForm(`${issuer}/account/grants/revoke`, revokeForm);
    expect(revoked.status).toBe(303);
    const after = await (await browser.get(`${issuer}/account`)).text();
    expect(after).not.toContain('data-client="other"');
    expect(after).toContain('data-client="web"');
    await rsCaughtUp();
    for (const { tokens } of flows) {
      const revocations = (await system.as.store.readStream(`grant-${jtiOf(tokens.access_token).split('.')[0]}`)).filter((e) => e.type === 'GrantRevoked');
      expect(revocations.map((e) => [e.data.reason, e.data.by])).toEqual([['revoked_by_user', expect.stringMatching(/^user:/)]]);
      expect((await callRs(tokens.access_token)).status).toBe(401);
      expect(await introspect(tokens.refresh_token!, other)).toEqual({ active: false });
    }
    expect((await callRs(webFlow.tokens.access_token)).status).toBe(200);
  });
});

describe('disabling a user or a client', () => {
  it('revokes every grant the user gave: refresh, introspection and the resource server refuse their tokens', async () => {
    const bob = { username: 'bob', password: 'bob password 1' };
    await system.as.admin.registerUser({ ...bob, name: 'Bob' });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const flows = [await runCodeFlow(issuer, web, bob), await runCodeFlow(issuer, other, bob, 'profile')];
    const mine = await runCodeFlow(issuer, web, alice);
    await rsCaughtUp();
    for (const { tokens } of flows) expect((await callRs(tokens.access_token)).status).toBe(200);
    await system.as.readSide.waitFor(await system.as.store.headPosition());

    // Each flow signed bob in on a browser of its own: both sessions end on record too.
    expect(await system.as.admin.disableUser('bob')).toEqual({ revokedGrants: 2, endedSignInSessions: 2 });
    for (const { tokens } of flows) {
      const revoked = (await system.as.store.readStream(`grant-${jtiOf(tokens.access_token).split('.')[0]}`)).filter((e) => e.type === 'GrantRevoked');
      expect(revoked.map((e) => [e.data.reason, e.data.by, e.schemaVersion])).toEqual([['user_disabled', 'admin', 3]]);
    }
    const [{ tokens }] = flows;
    const refused = await refresh(web, tokens.refresh_token!);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect(await introspect(tokens.refresh_token!)).toEqual({ active: false });
    await rsCaughtUp();
    for (const { tokens } of flows) expect((await callRs(tokens.access_token)).status).toBe(401);
    // Nobody else's tokens are touched, and disabling again revokes nothing more.
    expect((await callRs(mine.tokens.access_token)).status).toBe(200);
    expect(await system.as.admin.disableUser('bob')).toEqual({ revokedGrants: 0, endedSignInSessions: 0 });
  });

  it('mints no token for a grant the sweep did not revoke (a user disabled while authorizing)', async () => {
    const carol = { username: 'carol', password: 'carol password 1' };
    await system.as.admin.registerUser({ ...carol, name: 'Carol' });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const { tokens } = await runCodeFlow(issuer, web, carol);
    // The user disabled on record without the sweep, as if it had not seen this grant yet.
    await system.as.commandBus.execute(new DisableUser('carol', commandContext()));
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const refused = await refresh(web, tokens.refresh_token!);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'invalid_grant', error_description: "the grant's user or client is disabled" });
    expect(await grantEvents(tokens.access_token)).not.toContain('RefreshTokenRotated');
  });

  it('refuses the tokens issued to a disabled client, at introspection and at the resource server', async () => {
    const { clientSecret } = await system.as.admin.registerClient({
      clientId: 'robot', name: 'Robot', clientType: 'confidential', redirectUris: ['https://robot.example/cb'], scopes: ['items:read'], grantTypes: ['client_credentials'],
    });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const robot = { client_id: 'robot' };
    const { access_token } = await oauth.processClientCredentialsResponse(
      as, robot, await oauth.clientCredentialsGrantRequest(as, robot, oauth.ClientSecretBasic(clientSecret!), {}, insecure),
    );
    // The resource server introspects: registered for the tokens' audience (RFC 7662 section 4).
    const api = await system.as.admin.registerClient({
      clientId: 'items-api', name: 'Items API', clientType: 'confidential', redirectUris: ['https://api.example/cb'], scopes: ['items:read'], introspectionAudiences: [system.config.resourceServerUrl],
    });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const resourceServer: FlowClient = { clientId: 'items-api', clientSecret: api.clientSecret, redirectUri: 'https://api.example/cb' };
    await rsCaughtUp();
    expect((await callRs(access_token, '/api/items')).status).toBe(200);
    expect(await introspect(access_token, resourceServer)).toMatchObject({ active: true, client_id: 'robot' });

    await system.as.admin.disableClient('robot');
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    expect(await introspect(access_token, resourceServer)).toEqual({ active: false });
    await rsCaughtUp();
    const answer = await callRs(access_token, '/api/items');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});
