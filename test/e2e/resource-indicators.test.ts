import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { tempDir } from '../../src/dev/temp-dir.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../src/domain/events/event-schema.js';
import { startResourceServer, type ResourceServer } from '../../src/system/resource-server.js';
import { freePort } from '../support/free-port.js';
import { authorizationUrl, clientAuth, discover, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import { memoryLogger, startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

/**
 * RFC 8707 resource indicators across two resource servers, each its own audience, and
 * RFC 9728 protected resource metadata: a strict client (oauth4webapi) asks for tokens
 * for one or the other; each resource server refuses the other's tokens.
 */
const insecure = { [oauth.allowInsecureRequests]: true };
const dir = tempDir();
let system: TestSystem;
let second: ResourceServer;
let secondUrl: string;
let as: oauth.AuthorizationServer;
let agent: FlowClient;
const rita = { username: 'rita', password: 'correct horse battery' };

beforeAll(async () => {
  system = await startSystem(dir.path);
  const port = await freePort();
  secondUrl = `http://127.0.0.1:${port}/mcp`;
  // A second resource server: same issuer, its own identity from its configuration.
  second = await startResourceServer({ ...system.config, resourceServerUrl: secondUrl, resourceServerPort: port }, { bus: system.bus, logger: memoryLogger([]), consumerName: 'resource-server-b' });
  await system.as.admin.registerResourceServer({ uri: secondUrl, name: 'Items for agents', scopes: ['items:read'] });
  await system.as.admin.registerUser({ username: rita.username, password: rita.password, name: 'Rita' });
  await system.as.admin.registerClient({ clientId: 'agent', name: 'Agent', clientType: 'public', redirectUris: ['http://127.0.0.1:9/cb'], scopes: ['profile', 'items:read', 'offline_access'] });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  agent = { clientId: 'agent', clientSecret: null, redirectUri: 'http://127.0.0.1:9/cb' };
  as = await discover(system.config.issuer);
});
afterAll(async () => {
  await second.close();
  await system.close();
  dir.remove();
});

const bothCaughtUp = async () => {
  const head = await system.as.store.headPosition();
  await system.rs.projections.waitFor(head);
  await second.projections.waitFor(head);
};

/** The code flow with these resource parameters at /authorize, and at /token if given. */
async function codeFlow(resources: string[], scope: string, atToken: string[] = []) {
  const { url, codeVerifier, state } = await authorizationUrl(as, agent, scope);
  for (const resource of resources) url.searchParams.append('resource', resource);
  const browser = new UserAgent();
  const callback = await signInAndDecide(browser, system.config.issuer, url, rita);
  const params = oauth.validateAuthResponse(as, { client_id: agent.clientId }, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, { client_id: agent.clientId }, clientAuth(agent), params, agent.redirectUri, codeVerifier, {
    ...insecure,
    additionalParameters: atToken.map((resource) => ['resource', resource]),
  });
  return { response, browser };
}

const call = (base: string, token?: string) => fetch(`${base.replace(/\/mcp$/, '')}/api/items`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('resource indicators (RFC 8707) and protected resource metadata (RFC 9728)', () => {
  it('issues a token for the resource asked for, which that resource server accepts and the other refuses', async () => {
    const { response } = await codeFlow([secondUrl], 'items:read');
    const tokens = await oauth.processAuthorizationCodeResponse(as, { client_id: agent.clientId }, response);
    expect(decodeJwt(tokens.access_token).aud).toBe(secondUrl);
    await bothCaughtUp();
    expect((await call(secondUrl, tokens.access_token)).status).toBe(200);
    const refused = await call(system.config.resourceServerUrl, tokens.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('without resource, the token is for the client\'s default, which the second resource server refuses', async () => {
    const { response } = await codeFlow([], 'profile items:read');
    const tokens = await oauth.processAuthorizationCodeResponse(as, { client_id: agent.clientId }, response);
    expect(decodeJwt(tokens.access_token).aud).toBe(system.config.resourceServerUrl);
    await bothCaughtUp();
    expect((await call(system.config.resourceServerUrl, tokens.access_token)).status).toBe(200);
    expect((await call(secondUrl, tokens.access_token)).status).toBe(401);
  });

  it('narrows to one of several resources at the token endpoint and on refresh, and never widens', async () => {
    const both = [system.config.resourceServerUrl, secondUrl];
    const { response } = await codeFlow(both, 'items:read offline_access', [secondUrl]);
    const tokens = await oauth.processAuthorizationCodeResponse(as, { client_id: agent.clientId }, response);
    expect(decodeJwt(tokens.access_token).aud).toBe(secondUrl);
    const refresh = (resource: string[], token: string) =>
      oauth.refreshTokenGrantRequest(as, { client_id: agent.clientId }, clientAuth(agent), token, { ...insecure, additionalParameters: resource.map((r) => ['resource', r]) });

    // Both granted: a refresh without resource gets a token for both.
    const all = await oauth.processRefreshTokenResponse(as, { client_id: agent.clientId }, await refresh([], tokens.refresh_token!));
    expect(decodeJwt(all.access_token).aud).toEqual(both);
    const first = await oauth.processRefreshTokenResponse(as, { client_id: agent.clientId }, await refresh([system.config.resourceServerUrl], all.refresh_token!));
    expect(decodeJwt(first.access_token).aud).toBe(system.config.resourceServerUrl);

    // A resource the user never consented to for this grant: invalid_target, and the refresh token still stands.
    const wider = await refresh(['https://elsewhere.example/api'], first.refresh_token!);
    expect(wider.status).toBe(400);
    expect(wider.headers.get('cache-control')).toBe('no-store');
    expect(await wider.json()).toMatchObject({ error: 'invalid_target' });
    const again = await oauth.processRefreshTokenResponse(as, { client_id: agent.clientId }, await refresh([], first.refresh_token!));
    expect(decodeJwt(again.access_token).aud).toEqual(both);
  });

  it('shows on the account page which service each application can act at', async () => {
    const { response, browser } = await codeFlow([secondUrl], 'items:read');
    await oauth.processAuthorizationCodeResponse(as, { client_id: agent.clientId }, response);
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const page = await (await browser.get(`${system.config.issuer}/account`)).text();
    const row = /<tr data-client="agent">(.*?)<\/tr>/s.exec(page)?.[1] ?? '';
    // Earlier tests here granted the default resource server too.
    expect(row).toMatch(/<td class="services">(Resource server, Items for agents|Items for agents, Resource server)<\/td>/);
  });

  it('names the services on the consent page', async () => {
    const { url } = await authorizationUrl(as, agent, 'items:read');
    url.searchParams.append('resource', secondUrl);
    const browser = new UserAgent();
    const toLogin = await browser.get(url.toString());
    const loginPage = await browser.get(location(toLogin, system.config.issuer).toString());
    const login = await browser.postForm(`${system.config.issuer}/login`, { ...hiddenFields(await loginPage.text()), ...rita });
    const consentPage = await (await browser.get(location(login, system.config.issuer).toString())).text();
    expect(consentPage).toContain('<strong class="resource">Items for agents</strong>');
  });

  it('refuses unknown, malformed and disallowed resources with invalid_target', async () => {
    for (const resource of ['https://unknown.example/api', 'not a uri', `${secondUrl}#fragment`, `${secondUrl}?q=1`]) {
      const { url } = await authorizationUrl(as, agent, 'items:read');
      url.searchParams.append('resource', resource);
      const response = await new UserAgent().get(url.toString());
      expect(response.status).toBe(303);
      expect(location(response, system.config.issuer).searchParams.get('error')).toBe('invalid_target');
    }
    // A scope none of the resources asked for offers (scopes about the user, such as profile, need none).
    await system.as.admin.registerResourceServer({ uri: 'https://calendar.example/api', name: 'Calendar', scopes: ['calendar'] });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    for (const [scope, error] of [['items:read', 'invalid_scope'], ['profile', null]] as const) {
      const { url } = await authorizationUrl(as, agent, scope);
      url.searchParams.append('resource', 'https://calendar.example/api');
      const response = await new UserAgent().get(url.toString());
      expect(location(response, system.config.issuer).searchParams.get('error')).toBe(error);
    }

    // A client registered for one resource server only may not ask for another.
    const { clientSecret } = await system.as.admin.registerClient({
      clientId: 'bound', name: 'Bound', clientType: 'confidential', redirectUris: ['https://bound.example/cb'], scopes: ['items:read'], grantTypes: ['client_credentials'], resources: [secondUrl],
    });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const bound = { client_id: 'bound' };
    const own = await oauth.processClientCredentialsResponse(as, bound, await oauth.clientCredentialsGrantRequest(as, bound, oauth.ClientSecretBasic(clientSecret!), {}, insecure));
    expect(decodeJwt(own.access_token).aud).toBe(secondUrl);
    const other = await oauth.clientCredentialsGrantRequest(as, bound, oauth.ClientSecretBasic(clientSecret!), { resource: system.config.resourceServerUrl }, insecure);
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: 'invalid_target' });
  });

  it('a device asks for resources as /authorize does, and its request holds them', async () => {
    await system.as.admin.registerClient({ clientId: 'tv', name: 'TV', clientType: 'public', redirectUris: [], scopes: ['items:read'], grantTypes: [DEVICE_CODE_GRANT_TYPE] });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const ask = (resources: string[]) => {
      const body = new URLSearchParams({ client_id: 'tv', scope: 'items:read' });
      for (const resource of resources) body.append('resource', resource);
      return fetch(`${system.config.issuer}/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    };
    const refused = await ask(['https://unknown.example/api']);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_target' });
    expect((await ask([secondUrl])).status).toBe(200);
    const requests = (await system.as.store.readAll(0, 100_000)).filter((event) => event.type === 'DeviceAuthorizationRequested');
    expect(requests.map((event) => (event.data as { resources?: string[] }).resources)).toEqual([[secondUrl]]);
  });

  it('disabling a resource server stops new tokens for it, even under grants given before; the others still come', async () => {
    const uri = 'https://soon-gone.example/api';
    await system.as.admin.registerResourceServer({ uri, name: 'Soon gone', scopes: ['items:read'] });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const { response } = await codeFlow([uri, secondUrl], 'items:read offline_access');
    const tokens = await oauth.processAuthorizationCodeResponse(as, { client_id: agent.clientId }, response);
    await system.as.admin.disableResourceServer(uri);
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const refresh = (resource: string[], token: string) =>
      oauth.refreshTokenGrantRequest(as, { client_id: agent.clientId }, clientAuth(agent), token, { ...insecure, additionalParameters: resource.map((r) => ['resource', r]) });
    const refused = await refresh([], tokens.refresh_token!);
    expect(await refused.json()).toMatchObject({ error: 'invalid_target' });
    const narrowed = await oauth.processRefreshTokenResponse(as, { client_id: agent.clientId }, await refresh([secondUrl], tokens.refresh_token!));
    expect(decodeJwt(narrowed.access_token).aud).toBe(secondUrl);
  });

  it('a disabled resource server gets no new tokens', async () => {
    const uri = 'https://retired.example/api';
    await system.as.admin.registerResourceServer({ uri, name: 'Retired', scopes: ['items:read'] });
    await system.as.admin.disableResourceServer(uri);
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const { url } = await authorizationUrl(as, agent, 'items:read');
    url.searchParams.append('resource', uri);
    const response = await new UserAgent().get(url.toString());
    expect(location(response, system.config.issuer).searchParams.get('error')).toBe('invalid_target');
  });

  it('each resource server publishes its metadata and points to it from a 401', async () => {
    for (const resource of [system.config.resourceServerUrl, secondUrl]) {
      const unauthenticated = await call(resource);
      expect(unauthenticated.status).toBe(401);
      const pointer = /^Bearer .*resource_metadata="([^"]+)"/.exec(unauthenticated.headers.get('www-authenticate') ?? '')?.[1];
      expect(pointer).toBe(`${new URL(resource).origin}/.well-known/oauth-protected-resource${new URL(resource).pathname.replace(/^\/$/, '')}`);
      const metadata = await oauth.processResourceDiscoveryResponse(new URL(resource), await oauth.resourceDiscoveryRequest(new URL(resource), insecure));
      expect(metadata).toMatchObject({ authorization_servers: [system.config.issuer], scopes_supported: ['profile', 'items:read'], bearer_methods_supported: ['header'] });
    }
  });
});
