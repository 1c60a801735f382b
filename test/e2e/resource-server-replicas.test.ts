import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { startResourceServer, type ResourceServer } from '../../src/system/resource-server.js';
import { freePort } from '../support/free-port.js';
import { runCodeFlow, type FlowClient } from '../support/oauth-flow.js';
import { memoryLogger, registerWebClient, startSystem, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait-for.js';

const alice = { username: 'alice', password: 'correct horse battery' };

/**
 * Resource servers scaled out (several replicas, each on its own host and data directory)
 * each keep their own projections, so each must get every event from JetStream: none may
 * let a token through that another has seen revoked.
 */
describe('several resource server replicas on one NATS', () => {
  const dirs = [tempDir(), tempDir(), tempDir()];
  let nats: NatsServer;
  let system: TestSystem;
  let web: FlowClient;
  const replicas: ResourceServer[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    system = await startSystem(dirs[0].path, { natsUrl: nats.url });
    await system.as.admin.registerUser({ ...alice, name: 'Alice' });
    web = await registerWebClient(system);
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await system.close();
    await nats.dispose();
    for (const dir of dirs) dir.remove();
  });

  const startReplica = async (dir: string) => {
    const port = await freePort();
    const config = loadConfig({ DATA_DIR: dir, RS_PORT: String(port), RS_URL: system.config.resourceServerUrl, ISSUER: system.config.issuer, NATS_URL: nats.url, SERVICES: 'resource-server' });
    const replica = await startResourceServer(config, { logger: memoryLogger([]), port });
    replicas.push(replica);
    return replica;
  };

  it('each get every revocation, and keep their own consumer across a restart', async () => {
    const [b, c] = [await startReplica(dirs[1].path), await startReplica(dirs[2].path)];
    const servers = [system.rs, b, c];
    const tokens = [];
    for (let i = 0; i < 6; i++) tokens.push((await runCodeFlow(system.config.issuer, web, alice, 'profile')).tokens);
    const status = (server: ResourceServer, token: string) =>
      fetch(`${server.url}/api/profile`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    for (const server of servers) for (const { access_token } of tokens) expect(await status(server, access_token)).toBe(200);

    // Each grant revoked: its refresh token revoked (RFC 7009) revokes the grant, and its access token with it.
    for (const { refresh_token } of tokens) {
      const revoked = await fetch(`${system.config.issuer}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${web.clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({ token: refresh_token! }),
      });
      expect(revoked.status).toBe(200);
    }
    const head = await system.as.store.headPosition();
    for (const server of servers) await waitFor(async () => (await server.projections.lag()) === 0 && server.projections.position >= head, 'every replica to have every event', 10_000);
    for (const server of servers) for (const { access_token } of tokens) expect(await status(server, access_token)).toBe(401);

    // A replica restarted on its data directory resumes its own consumer, not a new one.
    const named = readFileSync(join(dirs[1].path, 'resource-server-consumer'), 'utf8').trim();
    expect(named).toMatch(/^resource-server-[0-9a-f]{16}$/);
    expect(readFileSync(join(dirs[2].path, 'resource-server-consumer'), 'utf8').trim()).not.toBe(named);
    await b.close();
    replicas.splice(replicas.indexOf(b), 1);
    const again = await startReplica(dirs[1].path);
    expect(readFileSync(join(dirs[1].path, 'resource-server-consumer'), 'utf8').trim()).toBe(named);
    for (const { access_token } of tokens) expect(await status(again, access_token)).toBe(401);
  });
});
