import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { ProjectionStore } from '../../projections/projection-store.js';
import { rebuildProjection } from '../../projections/projection-runner.js';
import { projectionRegistry } from '../../projections/registry.js';
import { tokenStatusProjection } from '../../projections/token-status.projection.js';
import { runCodeFlow } from '../support/oauth-flow.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

const alice = { username: 'alice', password: 'correct horse battery' };

describe.each([['embedded', false], ['NATS', true]])('projections and restarts, %s', (_name, withNats) => {
  const dir = tempDir();
  let nats: NatsServer | undefined;
  let system: TestSystem | undefined;
  let secret: string;
  const client = () => ({ clientId: 'web', clientSecret: secret, redirectUri: 'http://127.0.0.1:9/cb' });
  const revoke = async (issuer: string, token: string) => {
    const response = await fetch(`${issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ token }),
    });
    expect(response.status).toBe(200);
  };

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
    secret = (await registerWebClient(system)).clientSecret!;
    await system.as.admin.registerResourceServer({ uri: 'https://calendar.example/api', name: 'Calendar', scopes: ['calendar'] });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const flows = [];
    for (let i = 0; i < 3; i++) flows.push(await runCodeFlow(system.config.issuer, client(), alice, 'profile'));
    // Revocations are what token-status records: one access token, and one whole grant.
    await revoke(system.config.issuer, flows[0].tokens.access_token);
    await revoke(system.config.issuer, flows[1].tokens.refresh_token!);
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
    const profile = () => fetch(`${system!.config.resourceServerUrl}/api/profile`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await profile()).status).toBe(200);
    await revoke(system.config.issuer, tokens.access_token);
    await system.rs.projections.waitFor(await system.as.store.headPosition());
    expect(system.rs.projections.store.entries('token-status')).toHaveLength(tokenStatusBefore.length + 1);
    expect((await profile()).status).toBe(401);
  });
});

describe('a resource server upgraded to a new version of a fold, over NATS', () => {
  it('folds that projection again from the first event on the bus', async () => {
    const dir = tempDir();
    const nats = await startNatsServer();
    let system: TestSystem | undefined = await startSystem(dir.path, { natsUrl: nats.url });
    try {
      const web = await registerWebClient(system);
      await system.as.admin.disableClient('web');
      await system.rs.projections.waitFor(await system.as.store.headPosition());
      const disabled = system.rs.projections.store.get('token-status', 'client:web');
      expect(disabled).toMatchObject({ disabled: true });
      await system.close();
      system = undefined;

      // What a resource server's store looks like when it was folded by token-status version 1,
      // before disabled clients were part of it.
      const file = new Database(join(dir.path, 'resource-server-projections.sqlite'));
      file.prepare("DELETE FROM documents WHERE projection = 'token-status'").run();
      file.prepare("UPDATE projection_checkpoints SET version = 1 WHERE projection = 'token-status'").run();
      file.close();

      system = await startSystem(dir.path, { natsUrl: nats.url });
      await waitFor(async () => (await fetch(`${system!.config.resourceServerUrl}/readyz`)).status === 200, 'resource server ready');
      expect(system.rs.projections.store.get('token-status', `client:${web.clientId}`)).toEqual(disabled);
      expect(system.rs.projections.store.foldVersion('token-status')).toBe(tokenStatusProjection.version);
      expect(system.logLines.filter((line) => line.includes('folded again from the first event'))).toEqual([expect.stringContaining('"projection":"token-status"')]);
    } finally {
      await system?.close();
      await nats.dispose();
      dir.remove();
    }
  });
});
