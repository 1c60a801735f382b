import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { tempDir } from '../../src/dev/temp-dir.js';
import { signInAndDecide } from '../support/oauth-flow.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

/**
 * OpenID Connect, first part (issue 20): ID tokens from the code flow and refresh,
 * discovery, UserInfo, with openid-client as the relying party, configured as its
 * documentation tells one to, and oauth4webapi's ID token checks.
 */
const alice = { username: 'alice', password: 'correct horse battery' };
const redirectUri = 'http://127.0.0.1:9/rp';
const signedOutUri = 'http://127.0.0.1:9/signed-out';
const dir = tempDir();
let system: TestSystem;
let issuer: string;
let config: client.Configuration;
let secret: string;
let aliceId: string;

beforeAll(async () => {
  system = await startSystem(dir.path);
  issuer = system.config.issuer;
  ({ userId: aliceId } = await system.as.admin.registerUser({ ...alice, name: 'Alice Liddell', email: 'alice@example.com' }));
  ({ clientSecret: secret } = (await system.as.admin.registerClient({
    clientId: 'rp', name: 'Relying party', clientType: 'confidential', redirectUris: [redirectUri], scopes: ['openid', 'profile', 'email', 'items:read'], idTokenSignedResponseAlg: 'ES256', postLogoutRedirectUris: [signedOutUri],
  })) as { clientSecret: string });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  // This relying party registered ES256, and says so to openid-client (which expects RS256 unless told).
  config = await client.discovery(new URL(issuer), 'rp', { client_secret: secret, id_token_signed_response_alg: 'ES256' }, client.ClientSecretBasic(secret), {
    execute: [client.allowInsecureRequests],
  });
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

/** A code flow by openid-client: the password typed, or (signedIn) the browser's sign-in session and remembered consent standing in. */
async function signIn(browser = new UserAgent(), signedIn = false) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid profile email', code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256', nonce, state,
  });
  const before = Math.floor(Date.now() / 1000);
  const callback = signedIn ? location(await browser.get(url.toString()), issuer) : await signInAndDecide(browser, issuer, url, alice);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
  return { tokens, nonce, before, browser };
}

describe('OpenID Connect: ID tokens, discovery and UserInfo', () => {
  it('publishes one discovery document for OpenID Connect and RFC 8414', async () => {
    const oidc = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    const rfc8414 = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(oidc).toEqual(rfc8414);
    expect(oidc).toMatchObject({
      issuer, userinfo_endpoint: `${issuer}/userinfo`, subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      scopes_supported: expect.arrayContaining(['openid', 'profile', 'email']), claims_supported: expect.arrayContaining(['sub', 'auth_time', 'nonce', 'sid']),
    });
    expect(config.serverMetadata().userinfo_endpoint).toBe(`${issuer}/userinfo`);
  });

  it('gives an ID token on the code flow that openid-client validates, with nonce, auth_time, amr, acr and sid', async () => {
    const { tokens, nonce, before, browser } = await signIn();
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: issuer, sub: aliceId, aud: 'rp', nonce, amr: ['pwd'], acr: '1' });
    expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(claims.sid).toMatch(/^[\w-]{43}$/);
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    // Verified once more with jose against the published keys: no second opinion differs.
    const jwks = (await (await fetch(`${issuer}/jwks.json`)).json()) as JSONWebKeySet;
    await jwtVerify(tokens.id_token!, createLocalJWKSet(jwks), { issuer, audience: 'rp', algorithms: ['ES256'] });

    // On record: the ID token's id and session, never the token.
    const issued = (await system.as.store.readAll(0, 100_000)).filter((e) => e.type === 'IdTokenIssued');
    expect(issued.at(-1)!.data).toMatchObject({ jti: claims.jti, clientId: 'rp', userId: aliceId, signInSessionId: claims.sid });
    expect(JSON.stringify(issued)).not.toContain(tokens.id_token!.split('.')[2]);

    // The next sign-in from that browser: the session stands in, auth_time is the password's, acr 0.
    const again = await signIn(browser, true);
    expect(again.tokens.claims()).toMatchObject({ sub: aliceId, auth_time: claims.auth_time, acr: '0', sid: claims.sid, nonce: again.nonce });
  });

  it('answers UserInfo with the claims the scopes grant, GET and POST, and a new ID token on refresh', async () => {
    const { tokens } = await signIn();
    const userInfo = await client.fetchUserInfo(config, tokens.access_token, aliceId);
    expect(userInfo).toMatchObject({ sub: aliceId, name: 'Alice Liddell', preferred_username: 'alice', email: 'alice@example.com', email_verified: false });
    expect(typeof userInfo.updated_at).toBe('number');
    const posted = await fetch(`${issuer}/userinfo`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await posted.json()).toEqual(userInfo);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const before = tokens.claims()!;
    expect(refreshed.claims()).toMatchObject({ sub: before.sub, auth_time: before.auth_time, aud: 'rp' });
    expect(refreshed.claims()!.nonce).toBeUndefined();
    expect(refreshed.claims()!.jti).not.toBe(before.jti);
    // Narrowed without openid: no ID token, and UserInfo refuses the token.
    const narrowed = await client.refreshTokenGrant(config, refreshed.refresh_token!, { scope: 'profile' });
    expect(narrowed.id_token).toBeUndefined();
    const refused = await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${narrowed.access_token}` } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    // A revoked token: invalid_token, as soon as the revocation is on the read side.
    await client.tokenRevocation(config, refreshed.access_token, { token_type_hint: 'access_token' });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const revoked = await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('signs RS256 for a relying party that registered nothing, as OpenID Connect Registration says, and openid-client takes it as it comes', async () => {
    const { clientSecret } = await system.as.admin.registerClient({
      clientId: 'plain-rp', name: 'Plain RP', clientType: 'confidential', redirectUris: [redirectUri], scopes: ['openid', 'profile'],
    });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const plain = await client.discovery(new URL(issuer), 'plain-rp', clientSecret!, client.ClientSecretBasic(clientSecret!), { execute: [client.allowInsecureRequests] });
    const codeVerifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(plain, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256', nonce });
    const tokens = await client.authorizationCodeGrant(plain, await signInAndDecide(new UserAgent(), issuer, url, alice), { pkceCodeVerifier: codeVerifier, expectedNonce: nonce, idTokenExpected: true });
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RS256' });
    expect(tokens.claims()).toMatchObject({ sub: aliceId, aud: 'plain-rp' });
    // The access token stays ES256, and an RS256 key never passes for an access token's.
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const rsaKid = decodeProtectedHeader(tokens.id_token!).kid!;
    const [, payload] = tokens.access_token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: rsaKid })).toString('base64url')}.${payload}.${'A'.repeat(86)}`;
    await system.rs.projections.waitFor(await system.as.store.headPosition());
    const refused = await fetch(`${system.config.resourceServerUrl}/api/profile`, { headers: { authorization: `Bearer ${forged}` } });
    expect(refused.status).toBe(401);
  });

  it('passes oauth4webapi\'s ID token checks', async () => {
    const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oidc', [oauth.allowInsecureRequests]: true }));
    const rp: oauth.Client = { client_id: 'rp', id_token_signed_response_alg: 'ES256' };
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'rp', redirect_uri: redirectUri, scope: 'openid', nonce, code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256' })) url.searchParams.set(k, v);
    const params = oauth.validateAuthResponse(as, rp, await signInAndDecide(new UserAgent(), issuer, url, alice), oauth.expectNoState);
    const response = await oauth.authorizationCodeGrantRequest(as, rp, oauth.ClientSecretBasic(secret), params, redirectUri, codeVerifier, { [oauth.allowInsecureRequests]: true });
    const result = await oauth.processAuthorizationCodeResponse(as, rp, response, { expectedNonce: nonce, requireIdToken: true });
    expect(oauth.getValidatedIdTokenClaims(result)).toMatchObject({ sub: aliceId, nonce });
  });

  it('refuses what is not OpenID Connect as the specs say', async () => {
    const userinfo = (authorization?: string) => fetch(`${issuer}/userinfo`, { headers: authorization ? { authorization } : {} });
    const bare = await userinfo();
    expect([bare.status, bare.headers.get('www-authenticate'), bare.headers.get('cache-control')]).toEqual([401, 'Bearer realm="userinfo"', 'no-store']);
    const garbage = await userinfo('Bearer not-a-token');
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toContain('error="invalid_token"');
    // OAuth without openid keeps working as before: no ID token.
    const { url } = { url: client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'profile', code_challenge: await client.calculatePKCECodeChallenge('v'.repeat(43)), code_challenge_method: 'S256', state: 's' }) };
    const callback = await signInAndDecide(new UserAgent(), issuer, url, alice);
    const plain = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: 'v'.repeat(43), expectedState: 's' });
    expect(plain.id_token).toBeUndefined();
    expect((await userinfo(`Bearer ${plain.access_token}`)).status).toBe(403);
    // A nonce too long for the record is refused at the redirect URI.
    const long = new URL(url);
    long.searchParams.set('nonce', 'n'.repeat(513));
    const refused = location(await fetch(long, { redirect: 'manual' }), issuer);
    expect(refused.searchParams.get('error')).toBe('invalid_request');
  });
});

describe('OpenID Connect RP-Initiated Logout', () => {
  const sessionEnded = async (sid: string) => (await system.as.store.readStream(`session-${sid}`)).some((e) => e.type === 'SignInSessionEnded');
  const signedInAgain = async (browser: UserAgent) => {
    const { url } = { url: client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge('v'.repeat(43)), code_challenge_method: 'S256', prompt: 'consent' }) };
    return location(await browser.get(url.toString()), issuer).pathname !== '/login';
  };

  it('ends the session at once for a current id_token_hint of this browser\'s session, and returns to the registered address with state', async () => {
    const { tokens, browser } = await signIn();
    const sid = tokens.claims()!.sid as string;
    const sessionBefore = browser.cookies.get('as_session');
    const url = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: signedOutUri, state: 'bye' });
    const back = location(await browser.get(url.toString()), issuer);
    expect(`${back.origin}${back.pathname}`).toBe(signedOutUri);
    expect(back.searchParams.get('state')).toBe('bye');
    expect(await sessionEnded(sid)).toBe(true);
    expect(browser.cookies.get('as_session')).not.toBe(sessionBefore);
    expect(await signedInAgain(browser)).toBe(false);
  });

  it('asks the user first when the request cannot be trusted, and does what they answer', async () => {
    const { tokens, browser } = await signIn();
    const sid = tokens.claims()!.sid as string;
    // No hint: a page, nothing ended yet.
    const ask = await browser.get(`${issuer}/end_session?${new URLSearchParams({ client_id: 'rp', post_logout_redirect_uri: signedOutUri, state: 's1' })}`);
    expect(ask.status).toBe(200);
    const form = hiddenFields(await ask.text());
    expect(await sessionEnded(sid)).toBe(false);
    // "Stay signed in": still signed in.
    expect((await browser.postForm(`${issuer}/end_session`, { ...form, confirm: 'no' })).status).toBe(200);
    expect(await sessionEnded(sid)).toBe(false);
    // A form from elsewhere (no CSRF token of this browser) ends nothing.
    expect((await new UserAgent().postForm(`${issuer}/end_session`, { ...form, confirm: 'yes' })).status).toBe(400);
    expect(await sessionEnded(sid)).toBe(false);
    const back = location(await browser.postForm(`${issuer}/end_session`, { ...form, confirm: 'yes' }), issuer);
    expect(`${back.origin}${back.pathname}?${back.searchParams}`).toBe(`${signedOutUri}?state=s1`);
    expect(await sessionEnded(sid)).toBe(true);
    // A hint from a session that has ended is stale: asked again, not trusted.
    const { browser: other } = await signIn();
    expect((await other.get(`${issuer}/end_session?id_token_hint=${tokens.id_token}`)).status).toBe(200);
    expect(await signedInAgain(other)).toBe(true);
  });

  it('refuses a bad hint, a foreign client or an unregistered return address with a page, never a redirect', async () => {
    const { tokens, browser } = await signIn();
    const [header, payload, signature] = tokens.id_token!.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...tokens.claims(), sub: 'someone-else' })).toString('base64url')}.${signature}`;
    const queries: Array<Record<string, string>> = [
      { id_token_hint: tampered },
      { id_token_hint: tokens.access_token },
      { id_token_hint: `${header}.${payload}` },
      { id_token_hint: tokens.id_token!, client_id: 'plain-rp' },
      { client_id: 'nobody' },
      { client_id: 'rp', post_logout_redirect_uri: 'https://evil.example/' },
      { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${signedOutUri}/more` },
      { post_logout_redirect_uri: signedOutUri },
    ];
    for (const query of queries) {
      const answer = await browser.get(`${issuer}/end_session?${new URLSearchParams(query)}`);
      expect([query, answer.status, answer.headers.get('location')]).toEqual([query, 400, null]);
    }
    expect(await sessionEnded(tokens.claims()!.sid as string)).toBe(false);
  });
});
