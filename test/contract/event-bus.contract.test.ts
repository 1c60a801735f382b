import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { subjectMatches, subjectOf, type EventBus } from '../../src/event-bus/event-bus.js';
import { InProcessEventBus } from '../../src/event-bus/in-process-event-bus.js';
import { NatsJetStreamEventBus } from '../../src/event-bus/nats-jetstream-event-bus.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { loadConfig } from '../../src/config/config.js';
import { openEventBus } from '../../src/system/adapters.js';
import { waitFor } from '../support/wait-for.js';

let nats: NatsServer;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats.dispose();
});

let position = 0;
function recorded(stream: string, type: string, data: Record<string, unknown> = {}): RecordedEvent {
  position += 1;
  return {
    id: randomUUID(), type, stream, revision: 0, position, data, schemaVersion: 1,
    time: new Date().toISOString(), correlationId: 'c', causationId: null, hash: 'h',
  };
}

// The in-process bus lives and dies with its object, so "another process" is the same object for it.
const adapters: Array<[string, () => Promise<{ bus: EventBus; reconnect: () => Promise<EventBus> }>]> = [
  ['in-process', async () => {
    const bus = new InProcessEventBus(20);
    return { bus, reconnect: async () => bus };
  }],
  ['nats jetstream', async () => ({
    bus: await NatsJetStreamEventBus.connect(nats.url, { retryMs: 20 }),
    reconnect: () => NatsJetStreamEventBus.connect(nats.url, { retryMs: 20 }),
  })],
];

describe.each(adapters)('event bus contract: %s', (_name, make) => {
  let bus: EventBus;
  let reconnect: () => Promise<EventBus>;
  const opened: EventBus[] = [];
  beforeEach(async () => {
    ({ bus, reconnect } = await make());
    opened.push(bus);
  });
  afterEach(async () => {
    for (const b of new Set(opened.splice(0))) await b.close();
  });

  const collect = async (b: EventBus, durable: string, filter: string, into: RecordedEvent[]) =>
    b.consume(durable, filter, async (event) => {
      into.push(event);
    });

  it('delivers published events in order to a durable consumer, filtered by subject', async () => {
    const grant = `grant-${randomUUID()}`;
    const events = [recorded(grant, 'ConsentGranted'), recorded(`other-${randomUUID()}`, 'Noise'), recorded(grant, 'AccessTokenIssued')];
    expect(await bus.publish(events)).toBe(3);
    const seen: RecordedEvent[] = [];
    const consumer = await collect(bus, `d${randomUUID().slice(0, 8)}`, 'oauth.grant.>', seen);
    await waitFor(() => seen.filter((e) => e.stream === grant).length === 2, 'grant events');
    await consumer.stop();
    expect(seen.filter((e) => e.stream === grant)).toEqual([events[0], events[2]]);
    expect(seen.every((e) => subjectOf(e).startsWith('oauth.grant.'))).toBe(true);
  });

  it('drops an event published twice with the same id', async () => {
    const stream = `dup-${randomUUID()}`;
    const event = recorded(stream, 'Once');
    expect(await bus.publish([event])).toBe(1);
    expect(await bus.publish([event])).toBe(1);
    const seen: RecordedEvent[] = [];
    const consumer = await collect(bus, `d${randomUUID().slice(0, 8)}`, 'oauth.dup.>', seen);
    const marker = recorded(stream, 'Marker');
    await bus.publish([marker]);
    await waitFor(() => seen.some((e) => e.id === marker.id), 'the marker');
    await consumer.stop();
    expect(seen.filter((e) => e.id === event.id)).toHaveLength(1);
  });

  it('resumes a durable consumer after the last acknowledged event, even from a new connection', async () => {
    const durable = `d${randomUUID().slice(0, 8)}`;
    const stream = `resume-${randomUUID()}`;
    const first = [recorded(stream, 'One'), recorded(stream, 'Two')];
    await bus.publish(first);
    const seenBefore: RecordedEvent[] = [];
    const consumer = await collect(bus, durable, 'oauth.resume.>', seenBefore);
    await waitFor(() => seenBefore.length === 2, 'the first two');
    await consumer.stop();

    const later = recorded(stream, 'Three');
    await bus.publish([later]);
    const other = await reconnect();
    opened.push(other);
    const seenAfter: RecordedEvent[] = [];
    const resumed = await collect(other, durable, 'oauth.resume.>', seenAfter);
    await waitFor(() => seenAfter.length >= 1, 'the third');
    await new Promise((r) => setTimeout(r, 100));
    await resumed.stop();
    expect(seenAfter.map((e) => e.type)).toEqual(['Three']);
  });

  it('hands an event again when its handler failed, keeping the order', async () => {
    const stream = `retry-${randomUUID()}`;
    await bus.publish([recorded(stream, 'First'), recorded(stream, 'Second')]);
    let failed = false;
    const seen: string[] = [];
    const consumer = await bus.consume(`d${randomUUID().slice(0, 8)}`, 'oauth.retry.>', async (event) => {
      if (event.type === 'First' && !failed) {
        failed = true;
        throw new Error('transient');
      }
      seen.push(event.type);
    });
    await waitFor(() => seen.length === 2, 'both events');
    await consumer.stop();
    expect(failed).toBe(true);
    expect(seen).toEqual(['First', 'Second']);
  });

  it('starts a durable consumer over from the first event when asked, and only then', async () => {
    const stream = `again-${randomUUID()}`;
    const durable = `d${randomUUID().slice(0, 8)}`;
    await bus.publish([recorded(stream, 'One'), recorded(stream, 'Two')]);
    const first: string[] = [];
    const consumer = await bus.consume(durable, 'oauth.again.>', async (event) => void first.push(event.type));
    await waitFor(() => first.length === 2, 'both events');
    await consumer.stop();
    await bus.publish([recorded(stream, 'Three')]);

    const resumed: string[] = [];
    const again = await bus.consume(durable, 'oauth.again.>', async (event) => void resumed.push(event.type));
    await waitFor(() => resumed.length === 1, 'the new event');
    await again.stop();
    const over: string[] = [];
    const fromStart = await bus.consume(durable, 'oauth.again.>', async (event) => void over.push(event.type), { fromStart: true });
    await waitFor(() => over.length === 3, 'every event again');
    await new Promise((r) => setTimeout(r, 100));
    await fromStart.stop();
    expect([resumed, over]).toEqual([['Three'], ['One', 'Two', 'Three']]);
  });
});

describe('subjects', () => {
  it('are oauth.<category>.<EventType>', () => {
    expect(subjectOf({ stream: 'grant-123-abc', type: 'AccessTokenIssued' })).toBe('oauth.grant.AccessTokenIssued');
  });
  it('match NATS wildcards', () => {
    expect(subjectMatches('oauth.>', 'oauth.grant.X')).toBe(true);
    expect(subjectMatches('oauth.*.X', 'oauth.grant.X')).toBe(true);
    expect(subjectMatches('oauth.grant.>', 'oauth.client.X')).toBe(false);
    expect(subjectMatches('oauth.grant.*', 'oauth.grant.X.Y')).toBe(false);
    expect(subjectMatches('oauth.grant.>', 'oauth.grant')).toBe(false);
  });
});

describe('in-process bus retention', () => {
  it('keeps events until every durable consumer it knows has passed them, and no longer', async () => {
    const bus = new InProcessEventBus(20);
    const stream = `kept-${randomUUID()}`;
    const first = Array.from({ length: 10_000 }, (_, i) => recorded(stream, 'Kept', { i }));
    await bus.publish(first);
    // A stopped durable consumer still holds its place, and with it every event after it.
    const slow = await bus.consume('slow', 'oauth.kept.>', async () => {});
    await slow.stop();
    const seen: RecordedEvent[] = [];
    const fast = await bus.consume('fast', 'oauth.kept.>', async (event) => void seen.push(event));
    await waitFor(() => seen.length === first.length, 'every event, for the fast consumer');
    const late: RecordedEvent[] = [];
    const lateConsumer = await bus.consume('late', 'oauth.kept.>', async (event) => void late.push(event));
    await waitFor(() => late.length === first.length, 'every event, while the slow consumer holds them');
    await lateConsumer.stop();

    // Once the slow one has caught up, what all have passed is dropped: a newcomer starts after it.
    const resumed = await bus.consume('slow', 'oauth.kept.>', async () => {});
    await waitFor(async () => (await resumed.pending()) === 0, 'the slow consumer caught up');
    const newcomer: RecordedEvent[] = [];
    const newest = recorded(stream, 'Newest');
    await bus.publish([newest]);
    const newcomerConsumer = await bus.consume('newcomer', 'oauth.kept.>', async (event) => void newcomer.push(event));
    await waitFor(() => newcomer.some((e) => e.id === newest.id), 'the newest event');
    expect(newcomer.length).toBeLessThan(first.length);
    for (const consumer of [fast, resumed, newcomerConsumer]) await consumer.stop();
    await bus.close();
  });

  // An authorization server alone would otherwise keep every event it ever published, with no one to read them.
  it.each([
    ['authorization-server', 0],
    ['authorization-server,resource-server', 1_000],
  ])('for SERVICES=%s keeps %d of the events published before any consumer', async (services, kept) => {
    const bus = await openEventBus(loadConfig({ SERVICES: services, DATA_DIR: '/nonexistent' }));
    const stream = `early-${randomUUID()}`;
    await bus.publish(Array.from({ length: 1_000 }, (_, i) => recorded(stream, 'Early', { i })));
    const seen: RecordedEvent[] = [];
    const consumer = await bus.consume('late', 'oauth.early.>', async (event) => void seen.push(event));
    const after = recorded(stream, 'After');
    await bus.publish([after]);
    await waitFor(() => seen.some((e) => e.id === after.id), 'the event published after the consumer came');
    expect(seen.length).toBe(kept + 1);
    await consumer.stop();
    await bus.close();
  });
});
