import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { tempDir } from '../../src/dev/temp-dir.js';
import { discover, runCodeFlow, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';
import { UserAgent } from '../support/user-agent.js';

/**
 * The defects an adversarial review of the landed server found (issue 18) that concern
 * clients: the demo client, introspection, client subjects, client assertions (the
 * browser and session ones are in security-review.test.ts). Every test here failed before its fix.
 */
const insecure = { [oauth.allowInsecureRequests]: true };
const dir = tempDir();
let system: TestSystem;
let issuer: string;
let web: FlowClient;
let as: oauth.AuthorizationServer;
let aliceId: string;
const alice = { username: 'alice', password: 'correct horse battery' };

beforeAll(async () => {
  system = await startSystem(dir.path);
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

const caughtUp = async () => system.as.readSide.waitFor(await system.as.store.headPosition());

describe('4. the demo client holds nothing for a sign-in it started', () => {
  it('carries the flow in a sealed cookie, refuses one it did not make, and completes one it did', async () => {
    const { createDemoClientApp } = await import('../../src/demo-client/app.js');
    const { listen } = await import('../../src/system/listen.js');
    const demoSecret = await system.as.admin.registerClient({ clientId: 'demo-probe', name: 'Demo', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/demo-callback'], scopes: ['profile', 'items:read'] });
    await caughtUp();
    const app = createDemoClientApp({
      issuer, resourceServerUrl: system.config.resourceServerUrl, clientId: 'demo-probe', clientSecret: demoSecret.clientSecret!,
      redirectUri: 'http://127.0.0.1:9/demo-callback', scope: 'profile items:read',
    });
    const http = await listen(app, '127.0.0.1', 0);
    try {
      const demo = `http://127.0.0.1:${http.port}`;
      const browser = new UserAgent();
      const start = await browser.postForm(`${demo}/signin`, {});
      expect(start.status).toBe(303);
      const cookie = browser.cookies.get('demo_flow')!;
      const authorize = new URL(start.headers.get('location')!);
      // The cookie reveals neither the state nor anything else a thief could use.
      expect(cookie).not.toContain(authorize.searchParams.get('state'));
      expect(Buffer.from(cookie, 'base64url').toString('latin1')).not.toContain(authorize.searchParams.get('state'));
      const stranger = new UserAgent();
      for (const value of [undefined, 'made-up', `${cookie.slice(0, -2)}AA`]) {
        if (value) stranger.cookies.set('demo_flow', value);
        expect((await stranger.get(`${demo}/demo-callback?code=x&state=${authorize.searchParams.get('state')}&iss=${encodeURIComponent(issuer)}`)).status).toBe(400);
      }
      // Thousands started: each is the browser's to carry, none the client's to keep.
      const started = await Promise.all(Array.from({ length: 200 }, () => fetch(`${demo}/signin`, { method: 'POST', redirect: 'manual' }).then((r) => r.headers.get('set-cookie'))));
      expect(started.every((c) => /^demo_flow=[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/.test(c ?? ''))).toBe(true);
      const callback = await signInAndDecide(browser, issuer, authorize, alice);
      const done = await browser.get(`${demo}${callback.pathname}${callback.search}`);
      expect(done.status).toBe(200);
      expect(await done.text()).toMatch(/id="profile">[^<]*alice/);
      expect(browser.cookies.get('demo_flow')).toBe('');
    } finally {
      await http.close();
    }
  });
});

describe('6. introspection answers only those entitled to the token', () => {
  it('describes a token to its client and to resource servers registered for its audience, a refresh token to its client alone', async () => {
    const { tokens } = await runCodeFlow(issuer, web, alice, 'profile');
    const snoop = await system.as.admin.registerClient({ clientId: 'snoop', name: 'Snoop', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/s'], scopes: ['profile'] });
    const rs = await system.as.admin.registerClient({
      clientId: 'api', name: 'API', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/api'], scopes: ['profile'], introspectionAudiences: [system.config.resourceServerUrl],
    });
    await caughtUp();
    const introspect = async (clientId: string, secret: string, token: string) =>
      (await (await oauth.introspectionRequest(as, { client_id: clientId }, oauth.ClientSecretBasic(secret), token, insecure)).json()) as Record<string, unknown>;
    expect(await introspect('snoop', snoop.clientSecret!, tokens.access_token)).toEqual({ active: false });
    expect(await introspect('snoop', snoop.clientSecret!, tokens.refresh_token!)).toEqual({ active: false });
    expect(await introspect('api', rs.clientSecret!, tokens.access_token)).toMatchObject({ active: true, client_id: 'web', username: 'alice' });
    expect(await introspect('api', rs.clientSecret!, tokens.refresh_token!)).toEqual({ active: false });
    expect(await introspect('web', web.clientSecret!, tokens.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token' });
    await expect(system.as.admin.registerClient({ clientId: 'pub', name: 'Pub', clientType: 'public', redirectUris: ['http://127.0.0.1/p'], scopes: ['profile'], introspectionAudiences: ['https://rs'] }))
      .rejects.toThrow('only a confidential client may introspect tokens');
  });
});

describe('8. a client cannot take a user\'s subject', () => {
  it('refuses a client id of a user id\'s shape, and serves no user to a client\'s own token', async () => {
    await expect(system.as.admin.registerClient({ clientId: aliceId, name: 'Impostor', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/i'], scopes: ['profile'], grantTypes: ['client_credentials'] }))
      .rejects.toThrow('client_id must not have the shape of a user id');
    await expect(system.as.admin.registerClient({ clientId: randomUUID().toUpperCase(), name: 'Impostor', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/i'], scopes: ['profile'], grantTypes: ['client_credentials'] }))
      .rejects.toThrow('client_id must not have the shape of a user id');
    const robot = await system.as.admin.registerClient({ clientId: 'robot', name: 'Robot', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/r'], scopes: ['profile', 'items:read'], grantTypes: ['client_credentials'] });
    await caughtUp();
    const tokens = await oauth.processClientCredentialsResponse(as, { client_id: 'robot' }, await oauth.clientCredentialsGrantRequest(as, { client_id: 'robot' }, oauth.ClientSecretBasic(robot.clientSecret!), { scope: 'profile items:read' }, insecure));
    const call = async (path: string) => (await fetch(`${system.config.resourceServerUrl}${path}`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json();
    expect(await call('/api/profile')).toEqual({ sub: 'robot', username: null, name: null, email: null });
    expect(JSON.stringify(await call('/api/items'))).not.toContain('alice');
  });
});

describe('9. a client assertion names this server alone', () => {
  it('takes the token endpoint URL too with CLIENT_ASSERTION_AUDIENCE=issuer-or-endpoint, and never an array with a stranger', async () => {
    const widerDir = tempDir();
    const wider = await startSystem(widerDir.path, { env: { CLIENT_ASSERTION_AUDIENCE: 'issuer-or-endpoint' } });
    try {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      await wider.as.admin.registerClient({
        clientId: 'pk', name: 'Key client', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/pk'], scopes: ['profile'],
        tokenEndpointAuthMethod: 'private_key_jwt', grantTypes: ['client_credentials'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] },
      });
      await wider.as.readSide.waitFor(await wider.as.store.headPosition());
      const at = wider.config.issuer;
      const post = async (aud: string | string[]) => {
        const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('pk').setSubject('pk').setAudience(aud).setIssuedAt().setExpirationTime('2m').sign(privateKey);
        return (await fetch(`${at}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }) })).status;
      };
      expect(await post(at)).toBe(200);
      expect(await post(`${at}/token`)).toBe(200);
      expect(await post([`${at}/token`, 'https://other.example'])).toBe(401);
      expect(await post('https://other.example')).toBe(401);
    } finally {
      await wider.close();
      widerDir.remove();
    }
  });
});

