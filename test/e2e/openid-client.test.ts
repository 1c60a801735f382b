import * as client from 'openid-client';
import { tempDir } from '../../src/dev/temp-dir.js';
import { signInAndDecide } from '../support/oauth-flow.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { UserAgent } from '../support/user-agent.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const dir = tempDir();
let system: TestSystem;
let config: client.Configuration;

/** openid-client (panva), configured as its documentation tells a user to, over loopback http. */
beforeAll(async () => {
  system = await startSystem(dir.path);
  await system.as.admin.registerUser({ ...alice, name: 'Alice' });
  const { clientSecret } = await system.as.admin.registerClient({
    clientId: 'oc', name: 'openid-client app', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/cb'], scopes: ['profile', 'items:read'],
    grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
  });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  config = await client.discovery(new URL(system.config.issuer), 'oc', clientSecret!, client.ClientSecretBasic(clientSecret!), {
    algorithm: 'oauth2',
    execute: [client.allowInsecureRequests],
  });
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

describe('openid-client against this server', () => {
  it('discovers the server, runs code + PKCE, calls the resource server, refreshes, introspects and revokes', async () => {
    expect(config.serverMetadata().issuer).toBe(system.config.issuer);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'http://127.0.0.1:9/cb',
      scope: 'profile items:read',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    });
    const callback = await signInAndDecide(new UserAgent(), system.config.issuer, url, alice);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeDefined();

    await system.rs.projections.waitFor(await system.as.store.headPosition());
    const profile = await client.fetchProtectedResource(config, tokens.access_token, new URL('/api/profile', system.config.resourceServerUrl), 'GET');
    expect(profile.status).toBe(200);
    expect(await profile.json()).toMatchObject({ username: 'alice' });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(await client.tokenIntrospection(config, refreshed.access_token)).toMatchObject({ active: true, client_id: 'oc', username: 'alice' });

    await client.tokenRevocation(config, refreshed.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(await client.tokenIntrospection(config, refreshed.refresh_token!)).toEqual({ active: false });
    expect(await client.tokenIntrospection(config, refreshed.access_token)).toEqual({ active: false });
  });

  it('gets a client_credentials token', async () => {
    const tokens = await client.clientCredentialsGrant(config, { scope: 'items:read' });
    expect(tokens.scope).toBe('items:read');
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('surfaces the server\'s errors as RFC 6749 error codes', async () => {
    await expect(client.refreshTokenGrant(config, `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}.${'A'.repeat(43)}`)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.clientCredentialsGrant(config, { scope: 'admin' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });
});
