import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { tempDir } from '../../src/dev/temp-dir.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { signInAndDecide } from '../support/oauth-flow.js';
import { UserAgent } from '../support/user-agent.js';

/**
 * The Model Context Protocol's authorization flow, as an agent runs it knowing only the
 * resource's URL: the resource server's 401 points to its metadata (RFC 9728), which
 * names the authorization server, whose metadata (RFC 8414) names the registration
 * endpoint; the agent registers itself (RFC 7591: a public client with a loopback
 * redirect, no initial access token), runs the code flow with PKCE and `resource`
 * (RFC 8707), and calls the resource server with a token made for it. oauth4webapi
 * makes every request and checks every answer.
 */
const insecure = { [oauth.allowInsecureRequests]: true };
const dir = tempDir();
let system: TestSystem;
const user = { username: 'mia', password: 'correct horse battery' };

beforeAll(async () => {
  system = await startSystem(dir.path);
  await system.as.admin.registerUser({ ...user, name: 'Mia' });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

it('an agent finds the authorization server from a 401, registers itself, and gets a token for that resource', async () => {
  const resource = new URL(system.config.resourceServerUrl);
  const api = new URL('/api/items', resource);

  // 1. The call without a token: 401 and the RFC 9728 pointer.
  const first = await fetch(api);
  expect(first.status).toBe(401);
  const pointer = /resource_metadata="([^"]+)"/.exec(first.headers.get('www-authenticate') ?? '')?.[1];
  expect(pointer).toBeDefined();

  // 2. The protected resource's metadata: which authorization server, which scopes.
  const metadata = await oauth.processResourceDiscoveryResponse(resource, await oauth.resourceDiscoveryRequest(resource, insecure));
  expect(new URL(pointer!).pathname).toBe('/.well-known/oauth-protected-resource');
  const issuer = new URL(metadata.authorization_servers![0]);
  expect(metadata.scopes_supported).toContain('items:read');

  // 3. The authorization server's metadata.
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  expect(as.registration_endpoint).toBe(`${system.config.issuer}/register`);

  // 4. Dynamic registration: a public client with a loopback redirect URI.
  const registration = await oauth.dynamicClientRegistrationRequest(
    as,
    { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'MCP agent', scope: 'items:read' },
    insecure,
  );
  const client = await oauth.processDynamicClientRegistrationResponse(registration);
  expect(client.client_id).toEqual(expect.any(String));
  expect(client.client_secret).toBeUndefined();

  // 5. The code flow, PKCE S256 and resource=, the loopback redirect on the port the agent listens on now (RFC 8252 section 7.3).
  const redirectUri = 'http://127.0.0.1:49152/callback';
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  for (const [name, value] of Object.entries({
    response_type: 'code', client_id: client.client_id, redirect_uri: redirectUri, scope: 'items:read', state,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256', resource: resource.href.replace(/\/$/, ''),
  })) url.searchParams.set(name, value);
  const callback = await signInAndDecide(new UserAgent(), system.config.issuer, url, user);
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const tokens = await oauth.processAuthorizationCodeResponse(
    as, client,
    await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, codeVerifier, { ...insecure, additionalParameters: { resource: system.config.resourceServerUrl } }),
  );
  expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: system.config.resourceServerUrl, client_id: client.client_id, scope: 'items:read' });

  // 6. The call again, with the token.
  await system.rs.projections.waitFor(await system.as.store.headPosition());
  const second = await oauth.protectedResourceRequest(tokens.access_token, 'GET', api, undefined, undefined, insecure);
  expect(second.status).toBe(200);
  expect(await second.json()).toMatchObject({ items: expect.any(Array) });
});

it('an agent may register for the scopes of any registered resource server', async () => {
  await system.as.admin.registerResourceServer({ uri: 'https://calendar.example/mcp', name: 'Calendar', scopes: ['calendar:read'] });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  const issuer = new URL(system.config.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  const metadata = { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] };
  const client = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, { ...metadata, scope: 'calendar:read' }, insecure));
  expect(client.scope).toBe('calendar:read');
  const refused = await oauth.dynamicClientRegistrationRequest(as, { ...metadata, scope: 'calendar:write' }, insecure);
  expect(refused.status).toBe(400);
  expect(await refused.json()).toMatchObject({ error: 'invalid_client_metadata' });
});
