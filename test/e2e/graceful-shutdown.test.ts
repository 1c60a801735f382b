import { loadConfig } from '../../src/config/config.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { openRawEventStore } from '../../src/system/adapters.js';
import { openCommandSide } from '../../src/system/command-side.js';
import { freePort } from '../support/free-port.js';
import { idsOnJetStream } from '../support/jetstream.js';
import { startServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

describe('graceful shutdown on SIGTERM, under load', () => {
  const dir = tempDir();
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.dispose();
    dir.remove();
  });

  it('fails no request with a 5xx, and every committed event reaches a durable consumer exactly once', async () => {
    const env = { DATA_DIR: dir.path, NATS_URL: nats.url, SERVICES: 'authorization-server' };
    const port = await freePort();
    const side = await openCommandSide(loadConfig({ ...env, AS_PORT: String(port) }));
    const { clientSecret } = await side.admin.registerClient({
      clientId: 'load', name: 'Load', clientType: 'confidential', redirectUris: ['https://l.example/cb'], scopes: ['profile'], grantTypes: ['client_credentials'],
    });
    await side.close();

    const server = await startServerProcess({ ...env, AS_PORT: String(port) }, port);
    const statuses: number[] = [];
    let refused = 0;
    let stop = false;
    const basic = `Basic ${Buffer.from(`load:${clientSecret}`).toString('base64')}`;
    const loops = Array.from({ length: 16 }, async () => {
      while (!stop) {
        try {
          const response = await fetch(`${server.url}/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
            body: 'grant_type=client_credentials',
          });
          await response.arrayBuffer();
          statuses.push(response.status);
        } catch {
          // Connection refused or closed once the server stopped accepting: never a 5xx.
          refused += 1;
          if (server.child.exitCode !== null) return;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    });
    await waitFor(() => statuses.length >= 200, 'some load first', 10_000);
    expect(await server.kill('SIGTERM')).toBe(0);
    stop = true;
    await Promise.all(loops);

    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBe(statuses.length);
    expect(server.output.join('\n')).not.toContain(clientSecret!);

    const store = openRawEventStore(loadConfig(env));
    const stored = await store.readAll(0, 1_000_000);
    await store.close();
    expect(stored.filter((e) => e.type === 'AccessTokenIssued').length).toBe(statuses.length);

    const seen = await idsOnJetStream(nats.url, 'after-shutdown', stored.length);
    expect(seen).toEqual(stored.map((e) => e.id));
    void refused;
  });
});
