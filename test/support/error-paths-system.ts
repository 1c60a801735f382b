import { createHash } from 'node:crypto';
import { startSystem, type TestSystem } from './system.js';
import type { FlowClient } from './oauth-flow.js';

/** The system the error-path suites probe: alice, a client `web` named with markup, a client_secret_post client `post`. */
export const alice = { username: 'alice', password: 'correct horse battery' };
export const verifier = 'dBjftJeZ4CVP-mJ92K1tjFqTlaDv8eVG9NAGpPI3hHiZ_N1RsO9aVqZrO7sU8cNz';
export const challenge = createHash('sha256').update(verifier).digest('base64url');
export const validAuthorization = { response_type: 'code', client_id: 'web', redirect_uri: 'http://127.0.0.1:9/cb?app=1', scope: 'profile', state: 's1', code_challenge: challenge, code_challenge_method: 'S256' };

export async function startErrorPathsSystem(dataDir: string): Promise<{ system: TestSystem; issuer: string; rsUrl: string; web: FlowClient }> {
  const system = await startSystem(dataDir);
  await system.as.admin.registerUser({ ...alice, name: 'Alice' });
  const { clientSecret } = await system.as.admin.registerClient({
    clientId: 'web', name: 'Web <App>', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/cb?app=1'], scopes: ['profile', 'items:read'],
  });
  await system.as.admin.registerClient({
    clientId: 'post', name: 'Post', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/post'], scopes: ['profile'], tokenEndpointAuthMethod: 'client_secret_post',
  });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  return { system, issuer: system.config.issuer, rsUrl: system.config.resourceServerUrl, web: { clientId: 'web', clientSecret, redirectUri: 'http://127.0.0.1:9/cb?app=1' } };
}
