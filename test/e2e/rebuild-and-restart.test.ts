import type { ProjectionStore } from '../../projections/projection-store.js';
import { rebuildProjection } from '../../projections/projection-runner.js';
import { projectionRegistry } from '../../projections/registry.js';
import { runCodeFlow } from '../support/oauth-flow.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { tempDir } from '../../src/dev/temp-dir.js';

const alice = { username: 'alice', password: 'correct horse battery' };

describe.each([['embedded', false], ['NATS', true]])('projections and restarts, %s', (_name, withNats) => {
  const dir = tempDir();
  let nats: NatsServer | undefined;
  let system: TestSystem | undefined;
  let secret: string;
  const client = () => ({ clientId: 'web', clientSecret: secret, redirectUri: 'http://127.0.0.1:9/cb' });

  beforeAll(async () => {
    if (withNats) nats = await startNatsServer();
  });
  afterAll(async () => {
    await system?.close();
    await nats?.dispose();
    dir.remove();
  });

  it('rebuilds every projection from the store identical to the live ones', async () => {
    system = await startSystem(dir.path, { natsUrl: nats?.url });
    await system.as.admin.registerUser({ ...alice, name: 'Alice' });
    secret = (await system.as.admin.registerClient({ clientId: 'web', name: 'Web', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/cb'], scopes: ['profile'] })).clientSecret!;
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    for (let i = 0; i < 3; i++) await runCodeFlow(system.config.issuer, client(), alice, 'profile');
    const head = await system.as.store.headPosition();
    await system.as.readSide.waitFor(head);
    await system.rs.projections.waitFor(head);

    const live: Array<[string, ProjectionStore, readonly string[]]> = [
      ['authorization server', system.as.readSide.store, system.as.readSide.projections.map((p) => p.name)],
      ['resource server', system.rs.projections.store, system.rs.projections.projections.map((p) => p.name)],
    ];
    let compared = 0;
    for (const projection of projectionRegistry) {
      const rebuilt = await rebuildProjection(projection, system.as.store);
      expect(rebuilt.entries(projection.name).length).toBeGreaterThan(0);
      for (const [, store] of live.filter(([, , names]) => names.includes(projection.name))) {
        expect(store.entries(projection.name)).toEqual(rebuilt.entries(projection.name));
        compared += 1;
      }
    }
    // Each projection is compared wherever it lives: nothing in the registry goes unchecked.
    expect(compared).toBe(live.reduce((n, [, , names]) => n + names.length, 0));
  });

  it('keeps clients, users, keys and the resource server state across a restart', async () => {
    const before = system!;
    const jwksBefore = await (await fetch(`${before.config.issuer}/jwks.json`)).json();
    const tokenStatusBefore = before.rs.projections.store.entries('token-status');
    await before.close();
    system = undefined;

    system = await startSystem(dir.path, { natsUrl: nats?.url });
    expect(await (await fetch(`${system.config.issuer}/jwks.json`)).json()).toEqual(jwksBefore);
    if (withNats) {
      // The resource server's projections are on disk beside its durable consumer: nothing to replay.
      expect(system.rs.projections.store.entries('token-status')).toEqual(tokenStatusBefore);
    }
    const { tokens } = await runCodeFlow(system.config.issuer, client(), alice, 'profile');
    const head = await system.as.store.headPosition();
    await system.rs.projections.waitFor(head);
    expect(system.rs.projections.store.entries('token-status')).toHaveLength(tokenStatusBefore.length + 1);
    const profile = await fetch(`${system.config.resourceServerUrl}/api/profile`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(profile.status).toBe(200);
  });
});
