import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { loadConfig } from '../../src/config/config.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { InProcessEventBus } from '../../src/event-bus/in-process-event-bus.js';
import { startAuthorizationServer } from '../../src/system/authorization-server.js';
import { freePort } from '../support/free-port.js';
import { authorizationUrl, signInAndDecide, withNonceRetry, type FlowClient } from '../support/oauth-flow.js';
import { memoryLogger, startSystem, type TestSystem } from '../support/system.js';
import { UserAgent } from '../support/user-agent.js';

/**
 * DPoP (RFC 9449) end to end: oauth4webapi, a strict client, proves a key at the token
 * endpoint (retrying with the server's nonce), gets tokens bound to it, and presents them
 * to the resource server with a proof per request; and every refusal the RFC names.
 */
const insecure = { [oauth.allowInsecureRequests]: true };
const dir = tempDir();
let system: TestSystem;
let as: oauth.AuthorizationServer;
let machineSecret: string;
const machine = { client_id: 'machine' };
const app: FlowClient = { clientId: 'app', clientSecret: null, redirectUri: 'http://127.0.0.1:9/cb' };
const user = { username: 'dora', password: 'correct horse battery' };

beforeAll(async () => {
  system = await startSystem(dir.path);
  await system.as.admin.registerUser({ ...user, name: 'Dora' });
  machineSecret = (await system.as.admin.registerClient({
    clientId: 'machine', name: 'Machine', clientType: 'confidential', redirectUris: ['https://machine.example/cb'], scopes: ['items:read'], grantTypes: ['client_credentials'],
  })).clientSecret!;
  await system.as.admin.registerClient({ clientId: 'app', name: 'App', clientType: 'public', redirectUris: [app.redirectUri], scopes: ['profile', 'items:read', 'offline_access'] });
  await system.as.admin.registerClient({
    clientId: 'strict', name: 'Strict', clientType: 'confidential', redirectUris: ['https://strict.example/cb'], scopes: ['items:read'], grantTypes: ['client_credentials'], dpopBoundAccessTokens: true,
  }, 'strict-secret-strict-secret-strict');
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  as = await oauth.processDiscoveryResponse(new URL(system.config.issuer), await oauth.discoveryRequest(new URL(system.config.issuer), { algorithm: 'oauth2', ...insecure }));
});
afterAll(async () => {
  await system.close();
  dir.remove();
});


const machineToken = (dpop: oauth.DPoPHandle) =>
  withNonceRetry(
    () => oauth.clientCredentialsGrantRequest(as, machine, oauth.ClientSecretBasic(machineSecret), {}, { ...insecure, DPoP: dpop }),
    (response) => oauth.processClientCredentialsResponse(as, machine, response),
  );

const callItems = (token: string, dpop?: oauth.DPoPHandle) =>
  oauth.protectedResourceRequest(token, 'GET', new URL('/api/items', system.config.resourceServerUrl), undefined, undefined, { ...insecure, ...(dpop ? { DPoP: dpop } : {}) });

/** What a refusal said: oauth4webapi throws on a WWW-Authenticate challenge, with the response. */
async function refusal(request: Promise<Response>): Promise<{ status: number; challenge: string | null }> {
  const error = await request.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw new Error('expected a refusal with a challenge');
  return { status: error.status, challenge: error.response.headers.get('www-authenticate') };
}

/** A proof made by hand, to send what no good client would. */
async function handMadeProof(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return new SignJWT({ htm: 'POST', htu: `${system.config.issuer}/token`, jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
    .sign(privateKey);
}

const tokenRequest = (proof: string, body: Record<string, string> = { grant_type: 'client_credentials' }) =>
  fetch(`${system.config.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`machine:${machineSecret}`).toString('base64')}`, dpop: proof },
    body: new URLSearchParams(body),
  });

describe('DPoP-bound access tokens (RFC 9449)', () => {
  it('binds a client_credentials token to the proven key, after the nonce round trip, and says so everywhere', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP({}, keyPair);
    const tokens = await machineToken(dpop);
    expect(tokens.token_type).toBe('dpop');
    const jkt = await calculateJwkThumbprint((await exportJWK(keyPair.publicKey)) as JWK, 'sha256');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });

    await system.rs.projections.waitFor(await system.as.store.headPosition());
    const ok = await callItems(tokens.access_token, dpop);
    expect(ok.status).toBe(200);

    // Introspection tells a resource server the binding (RFC 9449 section 6.2).
    const introspection = await fetch(`${system.config.issuer}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`machine:${machineSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(await introspection.json()).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt } });

    // The metadata says which algorithms proofs may use.
    expect(as.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'EdDSA']));
  });

  it('the resource server refuses the bound token as Bearer, with another key, or with a proof used before', async () => {
    const keyPair = await oauth.generateKeyPair('ES256', { extractable: true });
    const dpop = oauth.DPoP({}, keyPair);
    const { access_token: token } = await machineToken(dpop);
    await system.rs.projections.waitFor(await system.as.store.headPosition());

    const asBearer = await refusal(callItems(token));
    expect(asBearer.status).toBe(401);
    expect(asBearer.challenge).toMatch(/^Bearer .*error="invalid_token"/);

    const thief = oauth.DPoP({}, await oauth.generateKeyPair('ES256'));
    const stolen = await refusal(callItems(token, thief));
    expect(stolen.status).toBe(401);
    expect(stolen.challenge).toMatch(/^DPoP algs="[^"]+", .*error="invalid_dpop_proof"/);

    // A proof by the token's own key, made once by hand for this request, sent twice.
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString('base64url');
    const proof = await new SignJWT({ htm: 'GET', htu: `${system.config.resourceServerUrl}/api/items`, jti: 'once', iat: Math.floor(Date.now() / 1000), ath })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keyPair.publicKey) })
      .sign(keyPair.privateKey);
    const send = () => fetch(`${system.config.resourceServerUrl}/api/items`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    expect((await send()).status).toBe(200);
    const replayed = await send();
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toMatch(/error="invalid_dpop_proof", error_description="this DPoP proof was already used"/);

    const unbound = await oauth.processClientCredentialsResponse(as, machine, await oauth.clientCredentialsGrantRequest(as, machine, oauth.ClientSecretBasic(machineSecret), {}, insecure));
    expect(unbound.token_type).toBe('bearer');
    expect((await refusal(callItems(unbound.access_token, dpop))).status).toBe(401);
  });

  it('refuses bad proofs at the token endpoint with invalid_dpop_proof, 400 and no-store', async () => {
    const dpop = oauth.DPoP({}, await oauth.generateKeyPair('ES256'));
    await machineToken(dpop);
    // A valid nonce, from any answer to a DPoP request.
    const nonce = (await tokenRequest(await handMadeProof({}))).headers.get('dpop-nonce')!;
    const cases: Array<[string, string]> = [
      ['wrong htu', await handMadeProof({ nonce, htu: `${system.config.issuer}/other` })],
      ['wrong htm', await handMadeProof({ nonce, htm: 'GET' })],
      ['stale iat', await handMadeProof({ nonce, iat: Math.floor(Date.now() / 1000) - 600 })],
      ['future iat', await handMadeProof({ nonce, iat: Math.floor(Date.now() / 1000) + 600 })],
      ['HS256', await new SignJWT({ htm: 'POST', htu: `${system.config.issuer}/token`, jti: 'h', iat: Math.floor(Date.now() / 1000), nonce }).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt' }).sign(new Uint8Array(32))],
      ['a private key in the jwk', await (async () => {
        const { privateKey } = await generateKeyPair('ES256', { extractable: true });
        return new SignJWT({ htm: 'POST', htu: `${system.config.issuer}/token`, jti: 'p', iat: Math.floor(Date.now() / 1000), nonce }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(privateKey) }).sign(privateKey);
      })()],
      ['garbage', 'not-a-jwt'],
    ];
    for (const [what, proof] of cases) {
      const response = await tokenRequest(proof);
      expect([what, response.status]).toEqual([what, 400]);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect([what, ((await response.json()) as { error: string }).error]).toEqual([what, 'invalid_dpop_proof']);
    }
    // Without the nonce: use_dpop_nonce, and a nonce to use.
    const noNonce = await tokenRequest(await handMadeProof({}));
    expect(await noNonce.json()).toMatchObject({ error: 'use_dpop_nonce' });
    expect(noNonce.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_-]+$/);

    // A good proof works once, on this instance and on any other.
    const once = await handMadeProof({ nonce });
    expect((await tokenRequest(once)).status).toBe(200);
    const replayed = await tokenRequest(once);
    expect(await replayed.json()).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringMatching(/already used/) });
    const port = await freePort();
    const other = await startAuthorizationServer(loadConfig({ DATA_DIR: dir.path, AS_PORT: String(port), ISSUER: system.config.issuer, SEED_DEMO: 'false' }), { bus: new InProcessEventBus(), logger: memoryLogger([]), port });
    try {
      const elsewhere = await handMadeProof({ nonce });
      expect((await tokenRequest(elsewhere)).status).toBe(200);
      const atOther = await fetch(`http://127.0.0.1:${port}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`machine:${machineSecret}`).toString('base64')}`, dpop: elsewhere },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      expect(await atOther.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    } finally {
      await other.close();
    }
  });

  it('puts no proof, token or key material in any event: thumbprints only', async () => {
    const keyPair = await oauth.generateKeyPair('ES256', { extractable: true });
    const dpop = oauth.DPoP({}, keyPair);
    const tokens = await machineToken(dpop);
    const publicJwk = await exportJWK(keyPair.publicKey);
    const recorded = JSON.stringify(await system.as.store.readAll(0, 1_000_000));
    expect(recorded).toContain(await dpop.calculateThumbprint());
    for (const secret of [tokens.access_token, publicJwk.x!, publicJwk.y!, (await exportJWK(keyPair.privateKey)).d!]) expect(recorded).not.toContain(secret);
    // No JWT at all: a proof or a token would start with a base64url JSON header.
    expect(recorded).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });

  it('a client registered for DPoP-bound tokens must send a proof', async () => {
    const response = await fetch(`${system.config.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('strict:strict-secret-strict-secret-strict').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('binds the code with dpop_jkt and a public client\'s refresh token to the key', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP({}, keyPair);
    const flow = async (dpopJkt: string) => {
      const { url, codeVerifier, state } = await authorizationUrl(as, app, 'items:read offline_access');
      url.searchParams.set('dpop_jkt', dpopJkt);
      const callback = await signInAndDecide(new UserAgent(), system.config.issuer, url, user);
      return { params: oauth.validateAuthResponse(as, { client_id: app.clientId }, callback, state), codeVerifier };
    };
    const redeem = (handle: oauth.DPoPHandle, { params, codeVerifier }: Awaited<ReturnType<typeof flow>>) =>
      withNonceRetry(
        () => oauth.authorizationCodeGrantRequest(as, { client_id: app.clientId }, oauth.None(), params, app.redirectUri, codeVerifier, { ...insecure, DPoP: handle }),
        (response) => oauth.processAuthorizationCodeResponse(as, { client_id: app.clientId }, response),
      );

    // A code bound to this key is refused with another.
    const other = oauth.DPoP({}, await oauth.generateKeyPair('ES256'));
    await expect(redeem(other, await flow(await dpop.calculateThumbprint()))).rejects.toMatchObject({ error: 'invalid_grant' });

    const tokens = await redeem(dpop, await flow(await dpop.calculateThumbprint()));
    expect(tokens.token_type).toBe('dpop');
    const refresh = (handle: oauth.DPoPHandle | undefined, token: string) =>
      withNonceRetry(
        () => oauth.refreshTokenGrantRequest(as, { client_id: app.clientId }, oauth.None(), token, { ...insecure, ...(handle ? { DPoP: handle } : {}) }),
        (response) => oauth.processRefreshTokenResponse(as, { client_id: app.clientId }, response),
      );
    // The refresh token works only with a proof by the same key.
    await expect(refresh(other, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(refresh(undefined, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const refreshed = await refresh(dpop, tokens.refresh_token!);
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt: await dpop.calculateThumbprint() });
    await expect(refresh(other, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

