import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { MemoryCheckpointStore } from '../../src/checkpoints/checkpoint-store.js';
import type { Lease } from '../../src/checkpoints/lease.js';
import { PublisherFenced, type BusPublisher, type EventBus } from '../../src/event-bus/event-bus.js';
import { TAKEOVER_SUBJECT } from '../../src/event-bus/fenced-jetstream-publisher.js';
import { NatsJetStreamEventBus, STREAM_NAME } from '../../src/event-bus/nats-jetstream-event-bus.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { LeasedRelay } from '../../src/relay/leased-relay.js';
import { Relay } from '../../src/relay/relay.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { anEvent, uniqueStream } from '../support/events.js';
import { waitFor } from '../support/wait-for.js';

/** A relay's way to the bus that can be held, as a process paused by the machine would be. */
class PausableBus implements EventBus {
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => {};
  /** Publishes asked for while paused (each waits at the gate). */
  waiting = 0;
  constructor(private readonly inner: EventBus) {}
  pause(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  resume(): void {
    this.open();
  }
  async takeOver(name: string): Promise<BusPublisher> {
    const publisher = await this.inner.takeOver(name);
    return {
      lastPosition: publisher.lastPosition,
      publish: async (events) => {
        this.waiting += 1;
        await this.gate;
        this.waiting -= 1;
        return publisher.publish(events);
      },
    };
  }
  publish(events: RecordedEvent[]) {
    return this.inner.publish(events);
  }
  consume(...args: Parameters<EventBus['consume']>) {
    return this.inner.consume(...args);
  }
  isConnected() {
    return this.inner.isConnected();
  }
  close() {
    return this.inner.close();
  }
}

/** An event as the store would have recorded it at `position`. */
function at(position: number): RecordedEvent {
  return {
    id: randomUUID(), type: 'Counted', stream: 'fence-1', revision: position - 1, position, data: {}, schemaVersion: 1,
    time: new Date().toISOString(), correlationId: 'c', causationId: null, hash: 'h',
  };
}

describe('relay fencing on NATS JetStream: one publisher, whoever believes what', () => {
  let nats: NatsServer;
  const dir = tempDir();
  let store: SqliteEventStore;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    nats = await startNatsServer();
    store = new SqliteEventStore(join(dir.path, `${randomUUID()}.sqlite`), { pollMs: 20, retryMs: 50 });
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await store.close();
    await nats.dispose();
  });
  afterAll(() => dir.remove());

  async function bus(): Promise<NatsJetStreamEventBus> {
    const b = await NatsJetStreamEventBus.connect(nats.url, { publishTimeoutMs: 1000 });
    closers.push(() => b.close());
    return b;
  }

  async function started(relay: Relay): Promise<Relay> {
    await relay.start();
    closers.push(() => relay.stop());
    return relay;
  }

  async function appendMany(count: number): Promise<void> {
    const stream = uniqueStream('fence');
    for (let i = 0; i < count; i++) await store.append(stream, [anEvent('Counted', { i })], i === 0 ? 'no_stream' : 'any');
  }

  /** What a fresh durable consumer of `oauth.>` receives, once it holds `count` events and a moment more. */
  async function eventsOnTheBus(count: number): Promise<RecordedEvent[]> {
    const reader = await bus();
    const seen: RecordedEvent[] = [];
    const consumer = await reader.consume(`check-${randomUUID().slice(0, 8)}`, 'oauth.>', async (event) => void seen.push(event));
    await waitFor(() => seen.length >= count, `${count} events on the bus`, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    await consumer.stop();
    return seen;
  }

  async function raw(): Promise<NatsConnection> {
    const nc = await connect({ servers: nats.url });
    closers.push(() => nc.close());
    return nc;
  }

  const positions = (events: RecordedEvent[]) => events.map((e) => e.position);
  const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  it('refuses every new event from a publisher once another took over, the first of a batch too', async () => {
    const [busA, busB] = [await bus(), await bus()];
    const [e1, e2, e3, e4] = [at(1), at(2), at(3), at(4)];
    const a = await busA.takeOver('relay-a');
    expect(a.lastPosition).toBe(0);
    expect(await a.publish([e1])).toBe(1);

    const b = await busB.takeOver('relay-b');
    expect(b.lastPosition).toBe(1);
    await expect(a.publish([e2])).rejects.toBeInstanceOf(PublisherFenced);
    await expect(a.publish([e2])).rejects.toBeInstanceOf(PublisherFenced);
    expect(await b.publish([e2, e3])).toBe(2);

    // Events already on the stream are acknowledged as duplicates, never stored again, whoever sends them.
    const c = await busA.takeOver('relay-c');
    expect(c.lastPosition).toBe(3);
    expect(await c.publish([e3])).toBe(1);
    expect(await c.publish([e4])).toBe(1);
    expect(await b.publish([e4])).toBe(1);
    await expect(b.publish([at(5)])).rejects.toBeInstanceOf(PublisherFenced);

    expect(positions(await eventsOnTheBus(4))).toEqual([1, 2, 3, 4]);
  });

  it("an old publisher's pipelined batch can neither land right after the new one's marker nor ride on its events", async () => {
    const [busA, busB] = [await bus(), await bus()];
    const jsm = await jetstreamManager(await raw());
    const stored = async () => (await jsm.streams.info(STREAM_NAME)).state.messages;
    const [e1, e2, e3, e4, e5] = [at(1), at(2), at(3), at(4), at(5)];
    const a = await busA.takeOver('relay-a');
    expect(await a.publish([e1])).toBe(1);
    const b = await busB.takeOver('relay-b');
    expect(await stored()).toBe(3);
    // e2 is refused; e3 expects the sequence right after e1, where B's marker now is: refused too.
    await expect(a.publish([e2, e3])).rejects.toBeInstanceOf(PublisherFenced);
    expect(await stored()).toBe(3);
    expect(await b.publish([e2])).toBe(1);

    const c = await busA.takeOver('relay-c');
    expect(await c.publish([e3])).toBe(1);
    const d = await busB.takeOver('relay-d');
    expect(await d.publish([e4])).toBe(1);
    expect(await stored()).toBe(8);
    // C's e4 is a duplicate of D's, and its e5, expecting e4 last, finds D's e4 one place past its own chain.
    expect(await c.publish([e4, e5])).toBe(1);
    expect(await stored()).toBe(8);
    await expect(c.publish([e5])).rejects.toBeInstanceOf(PublisherFenced);
    expect(await d.publish([e5])).toBe(1);
    expect(positions(await eventsOnTheBus(5))).toEqual([1, 2, 3, 4, 5]);
  });

  it('a relay taken over while it runs is refused, stops, and the bus holds every event once, in order, with no marker for an oauth.> consumer', async () => {
    const busA = new PausableBus(await bus());
    const busB = new PausableBus(await bus());
    const checkpoints = new MemoryCheckpointStore();
    const logged: string[] = [];
    const relayA = await started(new Relay(store, busA, checkpoints, 'relay', { info: (m) => void logged.push(m), error: (m) => void logged.push(m) }));
    const fencedA: PublisherFenced[] = [];
    relayA.onFenced((fence) => void fencedA.push(fence));
    await appendMany(30);
    await waitFor(() => relayA.publishedPosition === 30, 'relay A to publish 30');

    // B takes the bus over but is slow to publish; A, not told, goes on with the next events.
    busB.pause();
    const relayB = await started(new Relay(store, busB, checkpoints, 'relay'));
    await appendMany(10);
    await waitFor(() => relayA.fenced !== undefined, 'relay A to be refused');
    expect(fencedA).toHaveLength(1);
    expect(relayA.publishedPosition).toBe(30);
    expect(logged).toContain('relay: another relay took the event bus over; this one stops publishing');

    busB.resume();
    await appendMany(10);
    await waitFor(() => relayB.publishedPosition === 50, 'relay B to publish everything');
    expect(relayA.publishedPosition).toBe(30);
    expect(await relayA.drain(100)).toBe(false);

    const seen = await eventsOnTheBus(50);
    expect(positions(seen)).toEqual(oneTo(50));
    expect(new Set(seen.map((e) => e.id)).size).toBe(50);
    // The markers are on the stream, between the events, for no consumer of events to see.
    const jsm = await jetstreamManager(await raw());
    const { state } = await jsm.streams.info(STREAM_NAME);
    expect(state.messages).toBe(52);
    expect((await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: TAKEOVER_SUBJECT }))?.json<{ publisher: string }>().publisher).toBe('relay');
  });

  it('a relay paused in the middle of a publish sends nothing new when it wakes: duplicates dropped, the first new event refused', async () => {
    const busA = new PausableBus(await bus());
    const checkpoints = new MemoryCheckpointStore();
    const relayA = await started(new Relay(store, busA, checkpoints, 'relay'));
    await appendMany(10);
    await waitFor(() => relayA.publishedPosition === 10, 'relay A to publish 10');
    busA.pause();
    await appendMany(10);
    await waitFor(() => busA.waiting === 1, 'relay A to be held mid-publish');

    const relayB = await started(new Relay(store, await bus(), new MemoryCheckpointStore(), 'relay'));
    await waitFor(() => relayB.publishedPosition === 20, 'relay B to publish what A holds');
    await relayB.stop();
    busA.resume();
    await appendMany(5);
    await waitFor(() => relayA.fenced !== undefined, 'relay A to be refused');

    const seen = await eventsOnTheBus(20);
    expect(positions(seen)).toEqual(oneTo(20));
  });

  it('resumes after the newest event on the bus, not a checkpoint behind it: no duplicate even past the duplicate window', async () => {
    // A stream made before the fence, with a duplicate window far shorter than this test.
    const jsm = await jetstreamManager(await raw());
    await jsm.streams.add({ name: STREAM_NAME, subjects: ['oauth.>'], duplicate_window: 100_000_000 });

    const first = await started(new Relay(store, await bus(), new MemoryCheckpointStore(), 'relay'));
    await appendMany(40);
    await waitFor(() => first.publishedPosition === 40, 'the first relay to publish 40');
    await first.stop();
    const { config } = await jsm.streams.info(STREAM_NAME);
    expect([config.subjects, config.duplicate_window]).toEqual([['oauth.>', TAKEOVER_SUBJECT], 100_000_000]);
    await new Promise((r) => setTimeout(r, 300));

    // Its checkpoint lost (it died before writing it): the next relay starts from nothing.
    await appendMany(10);
    const behind = new MemoryCheckpointStore();
    const logged: string[] = [];
    const second = await started(new Relay(store, await bus(), behind, 'relay', { info: (m) => void logged.push(m), error: (m) => void logged.push(m) }));
    await waitFor(() => second.publishedPosition === 50, 'the second relay to publish the last 10');
    expect(await behind.get('relay')).toBe(50);
    expect(logged).toContain('relay: the event bus holds events past the checkpoint; resuming after them');

    const seen = await eventsOnTheBus(50);
    expect(positions(seen)).toEqual(oneTo(50));
  });

  it('goes on publishing after nats-server restarts past the duplicate window (which forgets the last message id)', async () => {
    const jsm = await jetstreamManager(await raw());
    await jsm.streams.add({ name: STREAM_NAME, subjects: ['oauth.>'], duplicate_window: 100_000_000 });
    const relay = await started(new Relay(store, await bus(), new MemoryCheckpointStore(), 'relay'));
    await appendMany(10);
    await waitFor(() => relay.publishedPosition === 10, 'the first 10');
    await nats.stop();
    await new Promise((r) => setTimeout(r, 300));
    await nats.start();
    await appendMany(10);
    await waitFor(() => relay.publishedPosition === 20, 'the relay to go on', 15_000);
    expect(relay.fenced).toBeUndefined();
    expect(positions(await eventsOnTheBus(20))).toEqual(oneTo(20));
  });

  it('a leased relay refused at the bus stops at once, without waiting for its next lease check', async () => {
    const logged: string[] = [];
    const logger = { info: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) };
    // The view of an instance paused past its lease: it last saw the lease as its own, and will not look again for a minute.
    const stale: Lease = { name: 'relay', holder: 'paused-instance', ttlMs: 180_000, tryAcquire: async () => true, release: async () => {} };
    const leased = new LeasedRelay(new Relay(store, await bus(), new MemoryCheckpointStore(), 'relay', logger), stale, logger);
    await leased.start();
    closers.push(() => leased.stop());
    await appendMany(5);
    await waitFor(() => leased.relay.publishedPosition === 5, 'the leased relay to publish');

    // The new holder takes the bus over, and is slow to publish: the old one tries first.
    const busB = new PausableBus(await bus());
    busB.pause();
    await started(new Relay(store, busB, new MemoryCheckpointStore(), 'relay'));
    await appendMany(5);
    await waitFor(() => !leased.active, 'the leased relay to stop');
    expect(logged).toContain('relay fenced: another instance took the event bus over; this one stopped publishing');
    busB.resume();
    expect(positions(await eventsOnTheBus(10))).toEqual(oneTo(10));
  });
});
