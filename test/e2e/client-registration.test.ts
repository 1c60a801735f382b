import * as oauth from 'oauth4webapi';
import { runAdmin, type Io } from '../../src/cli/admin.js';
import { loadConfig } from '../../src/config/config.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { InProcessEventBus } from '../../src/event-bus/in-process-event-bus.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { startAuthorizationServer } from '../../src/system/authorization-server.js';
import { freePort } from '../support/free-port.js';
import { authorizationUrl, discover, runCodeFlow } from '../support/oauth-flow.js';
import { memoryLogger, startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait-for.js';

const insecure = { [oauth.allowInsecureRequests]: true };
const alice = { username: 'alice', password: 'correct horse battery' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const loopback = 'http://127.0.0.1:9/cb';
const nativeApp = { client_name: 'Agent', redirect_uris: [loopback], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] };

function captureIo(): Io & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => void lines.push(l), err: (l) => void lines.push(l), stdin: () => '' };
}

/** Every credential a test here was given, to look for in the store at the end. */
const secretsSeen = new Set<string>();
type Registered = oauth.Client & { registration_access_token: string; registration_client_uri: string; client_secret?: string };
const remember = (client: Registered) => {
  secretsSeen.add(client.registration_access_token);
  if (client.client_secret) secretsSeen.add(client.client_secret);
  return client;
};

describe('dynamic client registration (RFC 7591) and management (RFC 7592), open by default', () => {
  const dir = tempDir();
  let system: TestSystem;
  let issuer: string;
  let as: oauth.AuthorizationServer;
  let initialAccessToken: string;

  const register = async (metadata: Partial<oauth.Client>, token?: string) =>
    remember((await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, metadata, { ...insecure, initialAccessToken: token }))) as Registered);
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const manage = (client: Registered, method: string, token = client.registration_access_token, body?: unknown) =>
    fetch(client.registration_client_uri, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  beforeAll(async () => {
    system = await startSystem(dir.path, { env: { REGISTRATION_LIMIT_PER_ADDRESS: '100' } });
    issuer = system.config.issuer;
    await system.as.admin.registerUser({ ...alice, name: 'Alice' });
    as = await discover(issuer);
    const io = captureIo();
    expect(await runAdmin(['registration-token', 'create', '--name', 'ci'], { DATA_DIR: dir.path }, io)).toBe(0);
    initialAccessToken = /^initial access token: (\S+)$/m.exec(io.lines.join('\n'))![1];
    secretsSeen.add(initialAccessToken);
  });
  afterAll(async () => {
    await system.close();
    dir.remove();
  });

  it('advertises the registration endpoint in both metadata documents', async () => {
    expect(as.registration_endpoint).toBe(`${issuer}/register`);
    const openid = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(openid.registration_endpoint).toBe(`${issuer}/register`);
  });

  it('lets a browser app register (CORS: no cookie is the credential here)', async () => {
    const preflight = await fetch(`${issuer}/register`, { method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');
    const response = await post(nativeApp, { origin: 'http://localhost:6274' });
    expect(response.status).toBe(201);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const { client_id } = remember((await response.json()) as Registered);
    // On record under the request's id, as every event an HTTP request causes.
    const [registered] = await system.as.store.readStream(`client-${client_id}`, 0);
    expect(registered.correlationId).toBe(response.headers.get('x-request-id'));
  });

  it('registers a public loopback app openly, and it runs the code flow to tokens at once', async () => {
    const response = await oauth.dynamicClientRegistrationRequest(as, nativeApp, insecure);
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const client = remember((await oauth.processDynamicClientRegistrationResponse(response)) as Registered);
    expect(client.client_id).not.toMatch(UUID);
    expect(client.client_secret).toBeUndefined();
    expect(client).toMatchObject({ client_name: 'Agent', redirect_uris: [loopback], token_endpoint_auth_method: 'none', response_types: ['code'], registration_client_uri: `${issuer}/register/${client.client_id}` });
    expect(client.client_id_issued_at).toEqual(expect.any(Number));

    const { tokens } = await runCodeFlow(issuer, { clientId: client.client_id, clientSecret: null, redirectUri: loopback }, alice, 'profile');
    expect(tokens.scope).toBe('profile');
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('registers an MCP-style client redirecting to localhost, held to the exact port it registered', async () => {
    const callback = 'http://localhost:6274/oauth/callback';
    const client = await register({ ...nativeApp, redirect_uris: [callback] });
    const { tokens } = await runCodeFlow(issuer, { clientId: client.client_id, clientSecret: null, redirectUri: callback }, alice, 'profile');
    expect(tokens.access_token).toEqual(expect.any(String));
    const otherPort = await authorizationUrl(as, { clientId: client.client_id, clientSecret: null, redirectUri: 'http://localhost:6275/oauth/callback' }, 'profile');
    expect((await fetch(otherPort.url, { redirect: 'manual' })).status).toBe(400);
  });

  it('tells the user on the consent page that a client registered itself, and which app it returns to', async () => {
    const client = await register({ ...nativeApp, client_name: 'Definitely Your Bank', redirect_uris: ['com.example.agent:/cb'] });
    const { url } = await authorizationUrl(as, { clientId: client.client_id, clientSecret: null, redirectUri: 'com.example.agent:/cb' }, 'profile');
    const browser = new UserAgent();
    const loginPage = await browser.get(location(await browser.get(url.toString()), issuer).toString());
    const login = await browser.postForm(`${issuer}/login`, { ...hiddenFields(await loginPage.text()), ...alice });
    const consent = await (await browser.get(location(login, issuer).toString())).text();
    expect(consent).toContain('registered itself');
    expect(consent).toContain('You will be sent back to com.example.agent:');
  });

  it('registers a confidential client with an initial access token; its secret, shown once, gets tokens', async () => {
    const client = await register({ client_name: 'CI job', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'items:read' }, initialAccessToken);
    expect(client.client_secret).toEqual(expect.any(String));
    expect(client.client_secret_expires_at).toBe(0);
    expect(client.redirect_uris).toEqual([]);
    const tokens = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(client.client_secret!), {}, insecure));
    expect(tokens.scope).toBe('items:read');
    expect(((await manage(client, 'GET').then((r) => r.json())) as Record<string, unknown>).client_secret).toBeUndefined();

    const io = captureIo();
    expect(await runAdmin(['client', 'list'], { DATA_DIR: dir.path }, io)).toBe(0);
    expect(io.lines.find((line) => line.startsWith(client.client_id))).toMatch(/registered itself \(initial access token for ci\)$/);
  });

  it('reads, updates and deletes a registration with its registration access token (RFC 7592)', async () => {
    const client = await register(nativeApp);
    const read = await manage(client, 'GET');
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ client_id: client.client_id, redirect_uris: [loopback], registration_access_token: client.registration_access_token });

    const moved = 'com.example.agent:/callback';
    const updated = await manage(client, 'PUT', undefined, { ...nativeApp, client_id: client.client_id, redirect_uris: [moved] });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ redirect_uris: [moved] });
    const oldOne = await authorizationUrl(as, { clientId: client.client_id, clientSecret: null, redirectUri: loopback }, 'profile');
    const refused = await fetch(oldOne.url, { redirect: 'manual' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('Invalid redirect URI');
    const newOne = await authorizationUrl(as, { clientId: client.client_id, clientSecret: null, redirectUri: moved }, 'profile');
    expect((await fetch(newOne.url, { redirect: 'manual' })).status).toBe(303);

    // Registered openly, it stays within what open registration allows.
    const widened = await manage(client, 'PUT', undefined, { ...nativeApp, client_id: client.client_id, redirect_uris: ['https://agent.example/cb'] });
    expect(widened.status).toBe(400);
    expect(await widened.json()).toMatchObject({ error: 'invalid_redirect_uri' });
    const confidential = await manage(client, 'PUT', undefined, { ...nativeApp, client_id: client.client_id, token_endpoint_auth_method: 'client_secret_basic' });
    expect(confidential.status).toBe(400);
    expect(await confidential.json()).toMatchObject({ error: 'invalid_client_metadata' });
    const otherId = await manage(client, 'PUT', undefined, { ...nativeApp, client_id: 'someone-else' });
    expect(await otherId.json()).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it('after a delete, the client gets no token, its refresh token stops, and its registration access token is refused', async () => {
    const client = await register(nativeApp);
    const { tokens } = await runCodeFlow(issuer, { clientId: client.client_id, clientSecret: null, redirectUri: loopback }, alice, 'profile');
    const deleted = await manage(client, 'DELETE');
    expect(deleted.status).toBe(204);

    const refresh = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure);
    expect(refresh.status).toBe(401);
    expect(await refresh.json()).toMatchObject({ error: 'invalid_client' });
    await system.rs.projections.waitFor(await system.as.store.headPosition());
    const profile = await fetch(`${system.config.resourceServerUrl}/api/profile`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(profile.status).toBe(401);
    const introspected = await fetch(`${issuer}/authorize?client_id=${client.client_id}`);
    expect(await introspected.text()).toContain('Unknown application');

    const again = await manage(client, 'GET');
    expect(again.status).toBe(401);
    expect(again.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it.each<[string, Record<string, unknown>, boolean, number, string]>([
    ['a non-loopback http redirect URI', { ...nativeApp, redirect_uris: ['http://agent.example/cb'] }, false, 400, 'invalid_redirect_uri'],
    ['a host merely named like localhost', { ...nativeApp, redirect_uris: ['http://localhost.agent.example/cb'] }, false, 400, 'invalid_redirect_uri'],
    ['a redirect URI with a fragment', { ...nativeApp, redirect_uris: ['http://127.0.0.1:9/cb#x'] }, false, 400, 'invalid_redirect_uri'],
    ['a scheme that is no reverse domain name', { ...nativeApp, redirect_uris: ['javascript:alert(1)'] }, false, 400, 'invalid_redirect_uri'],
    ['the code grant without redirect URIs', { ...nativeApp, redirect_uris: [] }, false, 400, 'invalid_redirect_uri'],
    ['an unknown authentication method', { ...nativeApp, token_endpoint_auth_method: 'tls_client_auth' }, true, 400, 'invalid_client_metadata'],
    ['private_key_jwt without jwks', { ...nativeApp, token_endpoint_auth_method: 'private_key_jwt' }, true, 400, 'invalid_client_metadata'],
    ['jwks holding a private key', { ...nativeApp, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }] } }, true, 400, 'invalid_client_metadata'],
    ['jwks_uri', { ...nativeApp, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://agent.example/jwks' }, true, 400, 'invalid_client_metadata'],
    ['a scope the server does not offer', { ...nativeApp, scope: 'profile admin' }, false, 400, 'invalid_client_metadata'],
    ['an unknown grant type', { ...nativeApp, grant_types: ['password'] }, false, 400, 'invalid_client_metadata'],
    ['response type token', { ...nativeApp, response_types: ['token'] }, false, 400, 'invalid_client_metadata'],
    ['client_credentials for a public client', { ...nativeApp, grant_types: ['client_credentials'], redirect_uris: [] }, false, 400, 'invalid_client_metadata'],
    ['a name too long', { ...nativeApp, client_name: 'x'.repeat(101) }, false, 400, 'invalid_client_metadata'],
    ['a confidential client without an initial access token', { ...nativeApp, token_endpoint_auth_method: 'client_secret_basic' }, false, 401, 'invalid_token'],
    ['an https redirect without an initial access token', { ...nativeApp, redirect_uris: ['https://agent.example/cb'] }, false, 401, 'invalid_token'],
  ])('refuses %s', async (_what, metadata, withToken, status, error) => {
    const response = await post(metadata, withToken ? { authorization: `Bearer ${initialAccessToken}` } : {});
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error });
    if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it('refuses a wrong initial access token, a wrong registration access token, and what is not JSON', async () => {
    const wrongToken = await post(nativeApp, { authorization: 'Bearer 00000000-0000-0000-0000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(wrongToken.status).toBe(401);
    expect(await wrongToken.json()).toMatchObject({ error: 'invalid_token' });

    const client = await register(nativeApp);
    for (const token of ['wrong', initialAccessToken]) {
      const response = await manage(client, 'GET', token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    }
    expect((await fetch(client.registration_client_uri)).status).toBe(401);
    expect((await manage({ ...client, registration_client_uri: `${issuer}/register/web` }, 'DELETE')).status).toBe(401);

    const form = await fetch(`${issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_name=x' });
    expect(form.status).toBe(400);
    expect(await form.json()).toMatchObject({ error: 'invalid_request' });
    expect((await post('{not json')).status).toBe(400);
    expect(await (await post([nativeApp])).json()).toMatchObject({ error: 'invalid_client_metadata' });
    expect((await post({ ...nativeApp, client_name: 'x'.repeat(20_000) })).status).toBe(413);
  });

  it('works at once on an instance whose read side has not seen the registration (it reads the client\'s stream)', async () => {
    const port = await freePort();
    const config = loadConfig({ DATA_DIR: dir.path, AS_PORT: String(port), ISSUER: issuer, SEED_DEMO: 'false' });
    const bus = new InProcessEventBus();
    const other = await startAuthorizationServer(config, { bus, logger: memoryLogger([]), port });
    try {
      await other.readSide.stop();
      const client = await register({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', scope: 'items:read' }, initialAccessToken);
      expect(other.ports.readModel.client(client.client_id)).toBeUndefined();
      const response = await fetch(`http://127.0.0.1:${port}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret! }),
      });
      expect(response.status).toBe(200);
      const native = await register(nativeApp);
      const { url } = await authorizationUrl(as, { clientId: native.client_id, clientSecret: null, redirectUri: loopback }, 'profile');
      url.host = `127.0.0.1:${port}`;
      expect((await fetch(url, { redirect: 'manual' })).status).toBe(303);
    } finally {
      await other.close();
      await bus.close();
    }
  });

  it('sweeps clients that registered themselves and were never issued a token; keeps used ones', async () => {
    const unused = await register(nativeApp);
    const used = await register({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'items:read' }, initialAccessToken);
    await oauth.processClientCredentialsResponse(as, used, await oauth.clientCredentialsGrantRequest(as, used, oauth.ClientSecretBasic(used.client_secret!), {}, insecure));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const io = captureIo();
    expect(await runAdmin(['client', 'sweep'], { DATA_DIR: dir.path, UNUSED_CLIENT_TTL: '1' }, io)).toBe(0);
    expect(io.lines).toContain(`deleted unused client ${unused.client_id}`);
    expect(io.lines).not.toContain(`deleted unused client ${used.client_id}`);
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    expect(system.as.ports.readModel.client(unused.client_id)?.deleted?.reason).toBe('unused');
    expect(system.as.ports.readModel.client(used.client_id)?.deleted).toBeUndefined();
    expect((await manage(unused, 'GET')).status).toBe(401);
  });

  it('keeps no registration access token, initial access token or client secret in the store', async () => {
    const all: RecordedEvent[] = await system.as.store.readAll(0, 100_000);
    const text = JSON.stringify(all);
    expect(secretsSeen.size).toBeGreaterThan(5);
    for (const secret of secretsSeen) expect(text).not.toContain(secret);
    const registered = all.filter((e) => e.type === 'ClientRegistered');
    expect(registered.map((e) => e.data.dynamicRegistration)).toEqual(expect.arrayContaining(['open', 'initial-access-token']));
    expect(all.map((e) => e.type)).toEqual(expect.arrayContaining(['ClientUpdated', 'ClientDeleted']));
  });
});
