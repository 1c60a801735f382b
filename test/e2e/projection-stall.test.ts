import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import type { EventBus } from '../../src/event-bus/event-bus.js';
import { InProcessEventBus } from '../../src/event-bus/in-process-event-bus.js';
import { NatsJetStreamEventBus } from '../../src/event-bus/nats-jetstream-event-bus.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { Metrics } from '../../src/observability/metrics.js';
import { startResourceServer } from '../../src/system/resource-server.js';
import { freePort } from '../support/free-port.js';
import { startSystem, memoryLogger } from '../support/system.js';
import { waitFor } from '../support/wait-for.js';

// An event the resource server cannot read (a schema version nobody can lift, as a newer
// writer's might be to an older reader) must not be retried in silence: revocations
// recorded after it do not reach this server until it gets past it.

let nats: NatsServer;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats.dispose();
});

let position = 0;
function recorded(type: string, data: Record<string, unknown>, schemaVersion: number): RecordedEvent {
  position += 1;
  return { id: randomUUID(), type, stream: `s-${position}`, revision: 0, position, data, schemaVersion, time: new Date().toISOString(), correlationId: 'c', causationId: null, hash: 'h' };
}

describe.each<[string, () => Promise<EventBus>, Record<string, string>]>([
  ['the in-process bus', async () => new InProcessEventBus(50), {}],
  ['NATS JetStream', async () => NatsJetStreamEventBus.connect(nats.url, { retryMs: 50 }), { NATS_URL: 'set below' }],
])('a resource server fed over %s, stuck on an event it cannot read', (_name, openBus, env) => {
  it('says so once in its log, in /readyz and in its metrics, having applied what came before', async () => {
    const bus = await openBus();
    const dir = tempDir();
    const lines: string[] = [];
    const metrics = new Metrics();
    const rs = await startResourceServer(
      loadConfig({ DATA_DIR: dir.path, RS_PORT: String(await freePort()), SERVICES: 'resource-server,authorization-server', ...(env.NATS_URL ? { NATS_URL: nats.url } : {}) }),
      { bus, logger: memoryLogger(lines), metrics, consumerName: `rs-${randomUUID()}` },
    );
    try {
      const before = recorded('ClientDisabled', { clientId: 'c-before' }, 1);
      const unreadable = recorded('TokenRevoked', { jti: 'jti-in-the-unreadable-event', grantId: 'g' }, 0);
      const after = recorded('ClientDisabled', { clientId: 'c-after' }, 1);
      await bus.publish([before, unreadable, after]);

      await waitFor(async () => (await fetch(`${rs.url}/readyz`)).status === 503, 'not ready');
      const ready = (await (await fetch(`${rs.url}/readyz`)).json()) as { checks: { projections: string } };
      expect(ready.checks.projections).toContain(`token-status cannot apply event ${unreadable.position} (TokenRevoked v0): InvalidEventData`);
      expect(rs.projections.store.get('token-status', 'client:c-before')).toMatchObject({ disabled: true });
      // Later events wait behind it: order is what makes a projection a fold of the record.
      expect(rs.projections.store.get('token-status', 'client:c-after')).toBeUndefined();

      // Retried every 50 ms for a while: still one line per projection stuck.
      await new Promise((r) => setTimeout(r, 500));
      const errors = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 50);
      expect(errors.map((l) => l.projection).sort()).toEqual(rs.projections.projections.map((p) => p.name).sort());
      expect(errors[0]).toMatchObject({ msg: expect.stringContaining('cannot apply an event'), position: unreadable.position, eventId: unreadable.id, type: 'TokenRevoked' });
      expect(lines.join('\n')).not.toContain('jti-in-the-unreadable-event');

      const text = await metrics.registry.metrics();
      expect(text).toContain('projection_stalled{server="resource-server",projection="token-status"} 1');
    } finally {
      await rs.close();
      await bus.close();
      dir.remove();
    }
  });
});

describe('an event in the store that no upcaster can lift', () => {
  it('stops the projections that reach it, loudly, on both servers, and the relay still publishes it as written', async () => {
    const dir = tempDir();
    // A stream of its own: the one above holds the other tests' unreadable events.
    const ownNats = await startNatsServer();
    const system = await startSystem(dir.path, { natsUrl: ownNats.url });
    try {
      const head = await system.as.store.headPosition();
      const grantId = randomUUID();
      const time = new Date().toISOString();
      // Appends take events as given; a writer of a newer release could have left this one.
      await system.as.store.append(`grant-${grantId}`, [{ id: randomUUID(), type: 'AccessTokenIssued', data: { grantId, jti: `${grantId}.j` }, schemaVersion: 0, time, correlationId: 'c', causationId: null }], 'no_stream');
      await system.as.store.append(`client-${randomUUID()}`, [{ id: randomUUID(), type: 'ClientDisabled', data: { clientId: 'later' }, schemaVersion: 1, time, correlationId: 'c', causationId: null }], 'no_stream');

      for (const [base, projection] of [[system.config.issuer, 'grants'], [system.config.resourceServerUrl, 'token-status']]) {
        await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, `${base} not ready`);
        const { checks } = (await (await fetch(`${base}/readyz`)).json()) as { checks: { projections: string } };
        expect(checks.projections).toContain(`${projection} cannot apply event ${head + 1} (AccessTokenIssued v0): InvalidEventData`);
      }
      expect(system.logLines.filter((l) => l.includes('cannot apply an event')).length).toBeGreaterThanOrEqual(2);

      // On NATS as written, and the event after it too: the relay is not stuck behind it.
      const reader = await NatsJetStreamEventBus.connect(ownNats.url);
      const seen: RecordedEvent[] = [];
      const consumer = await reader.consume('check', 'oauth.>', async (event) => void seen.push(event));
      await waitFor(() => seen.length === head + 2, 'every event on NATS');
      await consumer.stop();
      await reader.close();
      expect(seen.slice(-2).map((e) => [e.type, e.schemaVersion])).toEqual([['AccessTokenIssued', 0], ['ClientDisabled', 1]]);
      expect(system.as.relay.publishedPosition).toBe(head + 2);
    } finally {
      await system.close();
      await ownNats.dispose();
      dir.remove();
    }
  });
});
