import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';
import { tempDir } from '../../src/dev/temp-dir.js';
import { sealPushedRequest } from '../../src/gateway/pushed-authorization-request.js';
import { signInAndDecide, withNonceRetry } from '../support/oauth-flow.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { location, UserAgent } from '../support/user-agent.js';

/**
 * Pushed authorization requests (RFC 9126) and the FAPI 2.0 Security Profile, driven by
 * oauth4webapi (an OpenID-certified FAPI 2.0 client): the request pushed with client
 * authentication, the browser sent with only the request_uri, DPoP-bound tokens for the
 * FAPI client with private_key_jwt, its safe refresh retry; and the refusals.
 */
const insecure = { [oauth.allowInsecureRequests]: true };
const dir = tempDir();
let system: TestSystem;
let as: oauth.AuthorizationServer;
let issuer: string;
const user = { username: 'petra', password: 'correct horse battery' };
const redirectUri = 'https://bank.example/cb';
let bankKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let webSecret: string;

beforeAll(async () => {
  // A longer code lifetime for everyone: the FAPI client's must stay at 60 seconds.
  system = await startSystem(dir.path, { env: { AUTHORIZATION_CODE_TTL: '600' } });
  issuer = system.config.issuer;
  await system.as.admin.registerUser({ ...user, name: 'Petra' });
  webSecret = (await system.as.admin.registerClient({ clientId: 'web', name: 'Web', clientType: 'confidential', redirectUris: [redirectUri], scopes: ['profile'] })).clientSecret!;
  await system.as.admin.registerClient({ clientId: 'pushy', name: 'Pushy', clientType: 'confidential', redirectUris: [redirectUri], scopes: ['profile'], requirePushedAuthorizationRequests: true }, 'pushy-secret-pushy-secret-pushy');
  const keys = await generateKeyPair('ES256');
  bankKey = keys.privateKey;
  await system.as.admin.registerClient({
    clientId: 'bank', name: 'Bank', clientType: 'confidential', redirectUris: [redirectUri], scopes: ['profile', 'offline_access'],
    tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), alg: 'ES256' }] }, securityProfile: 'fapi2',
  });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }));
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

const pkce = async () => {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
};
const authorizeWith = (clientId: string, requestUri: string) => new URL(`${issuer}/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`);


describe('pushed authorization requests (RFC 9126)', () => {
  it('are advertised, and a pushed request starts an authorization that ends in tokens', async () => {
    expect(as.pushed_authorization_request_endpoint).toBe(`${issuer}/par`);
    const web = { client_id: 'web' };
    const { verifier, challenge } = await pkce();
    const pushed = await oauth.processPushedAuthorizationResponse(as, web, await oauth.pushedAuthorizationRequest(as, web, oauth.ClientSecretBasic(webSecret), {
      response_type: 'code', redirect_uri: redirectUri, scope: 'profile', state: 's1', code_challenge: challenge, code_challenge_method: 'S256',
    }, insecure));
    expect(pushed.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(pushed.expires_in).toBe(60);
    const browser = new UserAgent();
    const callback = await signInAndDecide(browser, issuer, authorizeWith('web', pushed.request_uri), user);
    const params = oauth.validateAuthResponse(as, web, callback, 's1');
    const tokens = await oauth.processAuthorizationCodeResponse(as, web, await oauth.authorizationCodeGrantRequest(as, web, oauth.ClientSecretBasic(webSecret), params, redirectUri, verifier, insecure));
    expect(decodeJwt(tokens.access_token).client_id).toBe('web');
    // On record: the request was pushed (auditors see which authorizations came through /par).
    const requested = (await system.as.store.readAll(0, 100_000)).filter((e) => e.type === 'AuthorizationRequested').pop()!;
    expect(requested.data).toMatchObject({ clientId: 'web', pushed: true });

    // Used once: the same request_uri again gives no second code.
    const again = location(await browser.get(authorizeWith('web', pushed.request_uri).toString()), issuer);
    expect(again.searchParams.get('code')).toBeNull();
    expect(again.searchParams.get('error')).toBe('invalid_request');
  });

  it('a request_uri is for its own client only, and not after it expires', async () => {
    const { challenge } = await pkce();
    const pushed = await oauth.processPushedAuthorizationResponse(as, { client_id: 'web' }, await oauth.pushedAuthorizationRequest(as, { client_id: 'web' }, oauth.ClientSecretBasic(webSecret), {
      response_type: 'code', redirect_uri: redirectUri, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256',
    }, insecure));
    const foreign = await new UserAgent().get(authorizeWith('pushy', pushed.request_uri).toString());
    expect(foreign.status).toBe(400);
    const expired = sealPushedRequest(system.as.ports.serverKeys.pushedAuthorizationRequest, 'web', { id: crypto.randomUUID(), params: `client_id=web&response_type=code&redirect_uri=${encodeURIComponent(redirectUri)}&code_challenge=${challenge}&code_challenge_method=S256`, expiresAt: Date.now() - 1 });
    expect((await new UserAgent().get(authorizeWith('web', expired).toString())).status).toBe(400);
    expect((await new UserAgent().get(authorizeWith('web', 'urn:ietf:params:oauth:request_uri:forged').toString())).status).toBe(400);
  });

  it('a client that must push is refused at /authorize without a request_uri', async () => {
    const { challenge } = await pkce();
    const url = new URL(`${issuer}/authorize?${new URLSearchParams({ client_id: 'pushy', response_type: 'code', redirect_uri: redirectUri, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' })}`);
    const answer = location(await new UserAgent().get(url.toString()), issuer);
    expect(answer.searchParams.get('error')).toBe('invalid_request');
    expect(answer.searchParams.get('error_description')).toMatch(/push/);
  });

  it('refuses bad pushes to the client with the RFC\'s errors, never in front of the user', async () => {
    const { challenge } = await pkce();
    const good = { response_type: 'code', redirect_uri: redirectUri, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' };
    const push = (form: Record<string, string>, authorization = `Basic ${Buffer.from(`web:${webSecret}`).toString('base64')}`) =>
      fetch(`${issuer}/par`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization }, body: new URLSearchParams(form) });
    const cases: Array<[string, Response, number, string]> = [
      ['no client authentication', await push(good, ''), 401, 'invalid_client'],
      ['a request_uri pushed', await push({ ...good, request_uri: 'urn:x' }), 400, 'invalid_request'],
      ['an unregistered redirect URI', await push({ ...good, redirect_uri: 'https://evil.example/cb' }), 400, 'invalid_request'],
      ['no PKCE', await push({ ...good, code_challenge: '' }), 400, 'invalid_request'],
      ['a scope beyond the client', await push({ ...good, scope: 'admin' }), 400, 'invalid_scope'],
      ['another client\'s id', await push({ ...good, client_id: 'pushy' }), 400, 'invalid_request'],
    ];
    for (const [what, response, status, error] of cases) {
      expect([what, response.status, ((await response.json()) as { error: string }).error]).toEqual([what, status, error]);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });
});

describe('the FAPI 2.0 Security Profile', () => {
  it('runs with PAR, private_key_jwt, PKCE and DPoP; codes live 60 seconds; a lost refresh answer can be asked for again, once', async () => {
    const bank = { client_id: 'bank' };
    const auth = oauth.PrivateKeyJwt(bankKey);
    const dpop = oauth.DPoP({}, await oauth.generateKeyPair('ES256'));
    const { verifier, challenge } = await pkce();

    // Without a pushed request, refused.
    const plain = new URL(`${issuer}/authorize?${new URLSearchParams({ client_id: 'bank', response_type: 'code', redirect_uri: redirectUri, scope: 'profile offline_access', code_challenge: challenge, code_challenge_method: 'S256' })}`);
    expect(location(await new UserAgent().get(plain.toString()), issuer).searchParams.get('error')).toBe('invalid_request');

    const pushed = await withNonceRetry(
      () => oauth.pushedAuthorizationRequest(as, bank, auth, { response_type: 'code', redirect_uri: redirectUri, scope: 'profile offline_access', state: 'f1', code_challenge: challenge, code_challenge_method: 'S256' }, { ...insecure, DPoP: dpop }),
      (response) => oauth.processPushedAuthorizationResponse(as, bank, response),
    );
    const callback = await signInAndDecide(new UserAgent(), issuer, authorizeWith('bank', pushed.request_uri), user);
    expect(callback.searchParams.get('iss')).toBe(issuer);
    const params = oauth.validateAuthResponse(as, bank, callback, 'f1');
    const issued = (await system.as.store.readAll(0, 100_000)).filter((e) => e.type === 'AuthorizationCodeIssued').pop()!;
    expect(Date.parse((issued.data as { expiresAt: string }).expiresAt) - Date.parse(issued.time)).toBeLessThanOrEqual(60_000);

    // The code is bound to the key the push was proven with; tokens are DPoP-bound.
    const tokens = await withNonceRetry(
      () => oauth.authorizationCodeGrantRequest(as, bank, auth, params, redirectUri, verifier, { ...insecure, DPoP: dpop }),
      (response) => oauth.processAuthorizationCodeResponse(as, bank, response),
    );
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: await dpop.calculateThumbprint() });

    const refresh = (token: string, handle: oauth.DPoPHandle | null = dpop) =>
      withNonceRetry(() => oauth.refreshTokenGrantRequest(as, bank, auth, token, { ...insecure, ...(handle ? { DPoP: handle } : {}) }), (response) => oauth.processRefreshTokenResponse(as, bank, response));
    // A FAPI client's token request without DPoP is refused.
    await expect(refresh(tokens.refresh_token!, null)).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
    const first = await refresh(tokens.refresh_token!);
    // The answer was lost: the same spent token again gives the same successor, and a new access token.
    const retried = await refresh(tokens.refresh_token!);
    expect(retried.refresh_token).toBe(first.refresh_token);
    expect(retried.access_token).not.toBe(first.access_token);
    // A third time is reuse: the grant is revoked, the successor with it.
    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(refresh(first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('a FAPI 2.0 client must authenticate with private_key_jwt', async () => {
    await expect(system.as.admin.registerClient({ clientId: 'weak', name: 'Weak', clientType: 'confidential', redirectUris: [redirectUri], scopes: ['profile'], securityProfile: 'fapi2' })).rejects.toThrow(/private_key_jwt/);
  });
});
