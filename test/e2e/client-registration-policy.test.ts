import * as oauth from 'oauth4webapi';
import { tempDir } from '../../src/dev/temp-dir.js';
import { discover, runCodeFlow } from '../support/oauth-flow.js';
import { startSystem } from '../support/system.js';
import { waitFor } from '../support/wait-for.js';

/** Dynamic client registration as configured: off, limited per address, tokens required, and the server's own sweep. */
const insecure = { [oauth.allowInsecureRequests]: true };
const alice = { username: 'alice', password: 'correct horse battery' };
const loopback = 'http://127.0.0.1:9/cb';
const nativeApp = { client_name: 'Agent', redirect_uris: [loopback], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] };
type Registered = oauth.Client & { client_id: string };

describe('dynamic client registration: off, the open registrations limit, the server\'s own sweep', () => {
  it('answers 404 and advertises nothing when off', async () => {
    const dir = tempDir();
    const system = await startSystem(dir.path, { env: { DYNAMIC_REGISTRATION: 'off' } });
    try {
      const metadata = (await (await fetch(`${system.config.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(metadata.registration_endpoint).toBeUndefined();
      const response = await fetch(`${system.config.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(nativeApp) });
      expect(response.status).toBe(404);
    } finally {
      await system.close();
      dir.remove();
    }
  });

  it('limits open registrations per address with 429 and Retry-After; with initial-access-token every one needs a token', async () => {
    const dir = tempDir();
    const system = await startSystem(dir.path, { env: { REGISTRATION_LIMIT_PER_ADDRESS: '2' } });
    const post = () => fetch(`${system.config.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(nativeApp) });
    try {
      expect((await post()).status).toBe(201);
      expect((await post()).status).toBe(201);
      const limited = await post();
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(3000);
      expect(await limited.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await system.close();
    }
    const strict = await startSystem(dir.path, { env: { DYNAMIC_REGISTRATION: 'initial-access-token' } });
    try {
      const response = await fetch(`${strict.config.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(nativeApp) });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'invalid_token' });
    } finally {
      await strict.close();
      dir.remove();
    }
  });

  it('sweeps unused self-registered clients itself when UNUSED_CLIENT_SWEEP_INTERVAL says so, keeping used ones', async () => {
    const dir = tempDir();
    const system = await startSystem(dir.path, { env: { UNUSED_CLIENT_TTL: '2', UNUSED_CLIENT_SWEEP_INTERVAL: '1' } });
    try {
      await system.as.admin.registerUser({ ...alice, name: 'Alice' });
      const as = await discover(system.config.issuer);
      const registered = async () => (await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, nativeApp, insecure))) as Registered;
      const [unused, used] = [await registered(), await registered()];
      await runCodeFlow(system.config.issuer, { clientId: used.client_id, clientSecret: null, redirectUri: loopback }, alice, 'profile');
      const { readModel } = system.as.ports;
      await waitFor(() => readModel.client(unused.client_id)?.deleted !== undefined, 'the unused client swept', 8000);
      expect(readModel.client(unused.client_id)?.deleted?.reason).toBe('unused');
      expect(readModel.client(used.client_id)?.deleted).toBeUndefined();
    } finally {
      await system.close();
      dir.remove();
    }
  });
});
