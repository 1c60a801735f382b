import { join } from 'node:path';
import { SqliteCheckpointStore } from '../../src/checkpoints/sqlite-checkpoint-store.js';
import type { CheckpointStore } from '../../src/checkpoints/checkpoint-store.js';
import { NatsJetStreamEventBus } from '../../src/event-bus/nats-jetstream-event-bus.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { Relay } from '../../src/relay/relay.js';
import { anEvent, uniqueStream } from '../support/events.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

/** Dies, once, exactly after the bus acknowledged a batch and before the checkpoint moves. */
class DiesBeforeCheckpoint implements CheckpointStore {
  died = false;
  constructor(private readonly inner: CheckpointStore) {}
  get(name: string) {
    return this.inner.get(name);
  }
  async set(name: string, position: number) {
    if (!this.died) {
      this.died = true;
      throw new Error('relay killed between publish and checkpoint');
    }
    return this.inner.set(name, position);
  }
  close() {
    return this.inner.close();
  }
}

describe('relay: store to NATS JetStream', () => {
  let nats: NatsServer;
  const dir = tempDir();
  let store: SqliteEventStore;
  let checkpoints: SqliteCheckpointStore;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    nats = await startNatsServer();
    store = new SqliteEventStore(join(dir.path, `${Math.random()}.sqlite`), { pollMs: 20, retryMs: 50 });
    checkpoints = new SqliteCheckpointStore(join(dir.path, `${Math.random()}-checkpoints.sqlite`));
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await store.close();
    await checkpoints.close();
    await nats.dispose();
  });
  afterAll(() => dir.remove());

  async function durableConsumer(name: string) {
    const bus = await NatsJetStreamEventBus.connect(nats.url);
    closers.push(() => bus.close());
    const seen: RecordedEvent[] = [];
    await bus.consume(name, 'oauth.>', async (event) => {
      seen.push(event);
    });
    return seen;
  }

  async function appendMany(count: number, stream = uniqueStream('relay')) {
    for (let i = 0; i < count; i++) await store.append(stream, [anEvent('Counted', { i })], i === 0 ? 'no_stream' : 'any');
  }

  it('publishes every stored event once, in order, and checkpoints what was acknowledged', async () => {
    const bus = await NatsJetStreamEventBus.connect(nats.url);
    closers.push(() => bus.close());
    const relay = new Relay(store, bus, checkpoints);
    await relay.start();
    closers.push(() => relay.stop());
    const seen = await durableConsumer('audit');
    await appendMany(300);
    await waitFor(() => seen.length === 300, '300 events');
    expect(seen.map((e) => e.data.i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    await waitFor(async () => (await checkpoints.get('relay')) === (await store.headPosition()), 'the checkpoint');
    expect(relay.publishedPosition).toBe(300);
  });

  it('killed between publish and checkpoint and restarted: a durable consumer sees every event exactly once', async () => {
    await appendMany(40);
    const dying = new DiesBeforeCheckpoint(checkpoints);
    const bus1 = await NatsJetStreamEventBus.connect(nats.url);
    const first = new Relay(store, bus1, dying);
    await first.start();
    await waitFor(() => dying.died, 'the relay to die');
    await first.stop();
    await bus1.close();
    expect(await checkpoints.get('relay')).toBe(0);

    await appendMany(10);
    const bus2 = await NatsJetStreamEventBus.connect(nats.url);
    closers.push(() => bus2.close());
    const second = new Relay(store, bus2, checkpoints);
    await second.start();
    closers.push(() => second.stop());

    const seen = await durableConsumer('exactly-once');
    await waitFor(() => seen.length >= 50, '50 events');
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toHaveLength(50);
    expect(new Set(seen.map((e) => e.id)).size).toBe(50);
    expect(seen.map((e) => e.position)).toEqual([...seen.map((e) => e.position)].sort((a, b) => a - b));
  });

  it('loses nothing while nats-server is down and catches up when it is back', async () => {
    const bus = await NatsJetStreamEventBus.connect(nats.url, { publishTimeoutMs: 300 });
    closers.push(() => bus.close());
    const logged: string[] = [];
    const relay = new Relay(store, bus, checkpoints, 'relay', { info: (m) => void logged.push(m), error: (m) => void logged.push(m) });
    await relay.start();
    closers.push(() => relay.stop());
    await appendMany(20);
    await waitFor(() => relay.publishedPosition === 20, 'the first 20 to be published');

    await nats.stop();
    await appendMany(30);
    await new Promise((r) => setTimeout(r, 500));
    expect(relay.publishedPosition).toBe(20);
    await nats.start();

    await waitFor(() => relay.publishedPosition === 50, 'the relay to catch up', 15_000);
    const seen = await durableConsumer('after-outage');
    await waitFor(() => seen.length >= 50, 'all 50 events', 10_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((e) => e.position)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // One line when the bus went away, one when it came back: not one per retry.
    expect(logged).toEqual(['relay: the event bus does not acknowledge; retrying, nothing is lost', 'relay: the event bus acknowledges again']);
  });
});
