import * as oauth from 'oauth4webapi';
import { SignJWT, generateKeyPair } from 'jose';
import { discover, runCodeFlow, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import type { TestSystem } from '../support/system.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { UserAgent } from '../support/user-agent.js';
import { alice, startErrorPathsSystem, validAuthorization, verifier } from '../support/error-paths-system.js';

const dir = tempDir();
let system: TestSystem;
let issuer: string;
let rsUrl: string;
let web: FlowClient;
const valid = validAuthorization;

beforeAll(async () => {
  ({ system, issuer, rsUrl, web } = await startErrorPathsSystem(dir.path));
});
afterAll(async () => {
  await system.close();
  dir.remove();
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
    // RFC 9728 section 5.1: where to learn which authorization server to ask.
    expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="resource-server", resource_metadata="${system.config.resourceServerUrl}/.well-known/oauth-protected-resource"`);
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
    const privateJwk = JSON.parse((await system.as.ports.secrets.get('signing_key', kid))!);
    const key = await import('jose').then((j) => j.importJWK(privateJwk, 'ES256'));
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
