import { join } from 'node:path';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { AppendTooLargeError, WrongExpectedVersionError, type EventStore } from '../../src/event-store/event-store.js';
import { EventStoreDbEventStore } from '../../src/event-store/eventstoredb-event-store.js';
import { MemoryEventStore } from '../../src/event-store/memory-event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres-event-store.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { checkLink, chainHash } from '../../src/event-store/tamper-evidence.js';
import { anEvent, uniqueStream } from '../support/events.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { startPostgres, type PrivatePostgres } from '../support/postgres.js';
import { waitFor } from '../support/wait-for.js';

const dir = tempDir();
afterAll(() => dir.remove());
// One PostgreSQL server for the file, its stores sharing one database as processes would.
let postgres: PrivatePostgres | undefined;
let postgresUrl = '';
beforeAll(async () => {
  postgres = await startPostgres();
  postgresUrl = await postgres.createDatabase('contract');
});
afterAll(() => postgres?.stop());

const adapters: Array<[string, (() => EventStore) | undefined]> = [
  ['memory', () => new MemoryEventStore({ pollMs: 20 })],
  ['sqlite', () => new SqliteEventStore(join(dir.path, `${Math.random()}.sqlite`), { pollMs: 20 })],
  ['postgresql', () => new PostgresEventStore(postgresUrl)],
  process.env.EVENTSTOREDB_URL
    ? ['eventstoredb', () => new EventStoreDbEventStore(process.env.EVENTSTOREDB_URL!)]
    : ['eventstoredb (SKIPPED: EVENTSTOREDB_URL is not set; no EventStoreDB server can run on this machine)', undefined],
];

if (!process.env.EVENTSTOREDB_URL) {
  console.warn(
    'SKIPPED: the event-store contract suite on EventStoreDB (every check below, against a real server). No EventStoreDB ' +
      'server can run on this machine. To run it: docker run -d --name esdb -p 2113:2113 -e EVENTSTORE_INSECURE=true ' +
      'eventstore/eventstore:24.10, then EVENTSTOREDB_URL=esdb://localhost:2113?tls=false npx jest --runInBand test/contract/event-store.contract.test.ts ' +
      'test/contract/eventstoredb.contract.test.ts (docs/eventstoredb.md).',
  );
}

describe.each(adapters)('event store contract: %s', (_name, make) => {
  const maybe = make ? it : it.skip;
  let store: EventStore;
  beforeEach(() => {
    if (make) store = make();
  });
  afterEach(async () => {
    if (make) await store.close();
  });

  maybe('reads back a stream in order with revisions from 0', async () => {
    const stream = uniqueStream();
    await store.append(stream, [anEvent('A'), anEvent('B')], 'no_stream');
    await store.append(stream, [anEvent('C')], 1);
    const events = await store.readStream(stream);
    expect(events.map((e) => [e.type, e.revision, e.stream])).toEqual([['A', 0, stream], ['B', 1, stream], ['C', 2, stream]]);
  });

  maybe('keeps the whole envelope', async () => {
    const stream = uniqueStream();
    const event = { ...anEvent('Enveloped', { n: 1, nested: { ok: true } }), correlationId: 'corr-1', causationId: 'cause-1', schemaVersion: 3 };
    const { position } = await store.append(stream, [event], 'no_stream');
    const [read] = await store.readStream(stream);
    expect(read).toEqual({ ...event, stream, revision: 0, position, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  maybe('chains each event\'s hash to the one before it in its stream', async () => {
    const stream = uniqueStream();
    await store.append(stream, [anEvent('A', { n: 1 }), anEvent('B', { n: 2 })], 'no_stream');
    await store.append(stream, [anEvent('C', { n: 3 })], 'any');
    const [a, b, c] = await store.readStream(stream);
    expect(a.hash).toBe(chainHash(null, a));
    expect(b.hash).toBe(chainHash(a.hash, b));
    expect(c.hash).toBe(chainHash(b.hash, c));
    const seen = new Map<string, { revision: number; hash: string }>();
    expect([a, b, c].map((e) => checkLink(seen, e))).toEqual([undefined, undefined, undefined]);
  });

  maybe('answers an empty list for a stream that does not exist', async () => {
    expect(await store.readStream(uniqueStream())).toEqual([]);
  });

  maybe('refuses appends whose expected revision does not hold, with a typed error', async () => {
    const stream = uniqueStream();
    await expect(store.append(stream, [anEvent()], 0)).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await expect(store.append(stream, [anEvent()], 'stream_exists')).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await store.append(stream, [anEvent()], 'no_stream');
    await expect(store.append(stream, [anEvent()], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await expect(store.append(stream, [anEvent()], 5)).rejects.toMatchObject({ stream, expected: 5, actual: 0 });
    await store.append(stream, [anEvent()], 'any');
    await store.append(stream, [anEvent()], 'stream_exists');
    expect(await store.readStream(stream)).toHaveLength(3);
  });

  maybe('lets exactly one of many concurrent writers with one expected revision win', async () => {
    const stream = uniqueStream();
    await store.append(stream, [anEvent('Start')], 'no_stream');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.append(stream, [anEvent('Race', { i })], 0)),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const r of lost) expect(r.reason).toBeInstanceOf(WrongExpectedVersionError);
    expect(await store.readStream(stream)).toHaveLength(2);
  });

  maybe('gives strictly increasing global positions across streams and reads the log from a position', async () => {
    const start = await store.headPosition();
    const streams = Array.from({ length: 50 }, () => uniqueStream('many'));
    for (const [i, stream] of streams.entries()) await store.append(stream, [anEvent('N', { i }), anEvent('M', { i })], 'no_stream');
    const log = (await store.readAll(start, 1000)).filter((e) => e.stream.startsWith('many-'));
    expect(log).toHaveLength(100);
    for (let i = 1; i < log.length; i++) expect(log[i].position).toBeGreaterThan(log[i - 1].position);
    expect(log.map((e) => e.data.i)).toEqual(streams.flatMap((_, i) => [i, i]));
    expect(await store.headPosition()).toBe(log[log.length - 1].position);

    const middle = log[49].position;
    const rest = await store.readAll(middle, 10);
    expect(rest.map((e) => e.id)).toEqual(log.slice(50, 60).map((e) => e.id));
    // From inside one append too (on EventStoreDB, the first event of a two-event append: is its position a place to read from?).
    expect((await store.readAll(log[48].position, 1)).map((e) => e.id)).toEqual([log[49].id]);
  });

  maybe('stores large payloads intact', async () => {
    const stream = uniqueStream();
    const big = 'x'.repeat(512 * 1024);
    await store.append(stream, [anEvent('Big', { big, list: Array.from({ length: 1000 }, (_, i) => i) })], 'no_stream');
    const [event] = await store.readStream(stream);
    expect(event.data.big).toBe(big);
    expect((event.data.list as number[])[999]).toBe(999);
  });

  maybe('refuses an append over 1 MiB (EventStoreDB\'s limit) with a typed error, on every store, and writes none of it', async () => {
    const stream = uniqueStream();
    const half = 'x'.repeat(768 * 1024);
    await expect(store.append(stream, [anEvent('Big', { half }), anEvent('Big', { half })], 'no_stream')).rejects.toBeInstanceOf(AppendTooLargeError);
    expect(await store.readStream(stream)).toEqual([]);
  });

  maybe('counts the events after a position, one per event whatever positions are (lag)', async () => {
    const from = await store.headPosition();
    expect(await store.countAfter(from, 10_000)).toBe(0);
    await store.append(uniqueStream(), [anEvent('One')], 'no_stream');
    expect(await store.countAfter(from, 10_000)).toBe(1);
    await store.append(uniqueStream(), [anEvent('Two'), anEvent('Three')], 'no_stream');
    expect(await store.countAfter(from, 10_000)).toBe(3);
    expect(await store.countAfter(from, 2)).toBeGreaterThanOrEqual(2);
    expect(await store.countAfter(await store.headPosition(), 10_000)).toBe(0);
  });

  maybe('follows the global log live, in order, from a position', async () => {
    const before = uniqueStream();
    await store.append(before, [anEvent('Old')], 'no_stream');
    const from = await store.headPosition();
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribeAll(from, async (batch) => {
      seen.push(...batch);
    });
    const stream = uniqueStream();
    for (let i = 0; i < 5; i++) await store.append(stream, [anEvent('Live', { i })], i === 0 ? 'no_stream' : i - 1);
    await waitFor(() => seen.length >= 5);
    await subscription.stop();
    expect(seen.map((e) => e.data.i)).toEqual([0, 1, 2, 3, 4]);
    expect(seen.every((e) => e.position > from)).toBe(true);
  });

  maybe('hands a batch again after its handler failed, so nothing is skipped', async () => {
    const from = await store.headPosition();
    const stream = uniqueStream();
    await store.append(stream, [anEvent('One'), anEvent('Two')], 'no_stream');
    let failures = 0;
    const seen: string[] = [];
    const subscription = store.subscribeAll(from, async (batch) => {
      if (failures++ === 0) throw new Error('transient');
      seen.push(...batch.map((e) => e.type));
    });
    await waitFor(() => seen.length >= 2, 'the retried batch');
    await subscription.stop();
    expect(seen).toEqual(['One', 'Two']);
  });
});

describe('sqlite event store durability', () => {
  it('keeps every event across a close and a reopen of the file', async () => {
    const file = join(dir.path, 'durable.sqlite');
    const first = new SqliteEventStore(file);
    const stream = uniqueStream();
    await first.append(stream, [anEvent('Kept', { n: 1 })], 'no_stream');
    await first.close();
    const second = new SqliteEventStore(file);
    expect((await second.readStream(stream)).map((e) => e.data)).toEqual([{ n: 1 }]);
    await second.append(stream, [anEvent('Kept', { n: 2 })], 0);
    expect(await second.headPosition()).toBe(2);
    await second.close();
  });

  it('serialises writers from two connections to one file', async () => {
    const file = join(dir.path, 'two-writers.sqlite');
    const a = new SqliteEventStore(file);
    const b = new SqliteEventStore(file);
    const stream = uniqueStream();
    await a.append(stream, [anEvent()], 'no_stream');
    await expect(b.append(stream, [anEvent()], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await b.append(stream, [anEvent()], 0);
    await expect(a.append(stream, [anEvent()], 0)).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect(await a.readStream(stream)).toHaveLength(2);
    await a.close();
    await b.close();
  });

  it('commits appends made together in one group, where a lost race fails only its own append', async () => {
    const store = new SqliteEventStore(join(dir.path, 'group.sqlite'));
    const contested = uniqueStream();
    await store.append(contested, [anEvent('First')], 'no_stream');
    const others = Array.from({ length: 20 }, () => uniqueStream());
    const outcomes = await Promise.allSettled([
      ...others.map((stream, i) => store.append(stream, [anEvent('Other', { i })], 'no_stream')),
      store.append(contested, [anEvent('Late')], 'no_stream'),
      store.append(contested, [anEvent('Second')], 0),
    ]);
    expect(outcomes.slice(0, 20).every((o) => o.status === 'fulfilled')).toBe(true);
    expect(outcomes[20]).toMatchObject({ status: 'rejected', reason: expect.any(WrongExpectedVersionError) });
    expect(outcomes[21].status).toBe('fulfilled');
    expect((await store.readStream(contested)).map((e) => e.type)).toEqual(['First', 'Second']);
    // What breaks a group's transaction (here a duplicate event id) fails only its own append.
    const duplicate = anEvent('Twice');
    await store.append(uniqueStream(), [duplicate], 'no_stream');
    const [broken, ...innocent] = await Promise.allSettled([
      store.append(uniqueStream(), [duplicate], 'no_stream'),
      store.append(uniqueStream(), [anEvent('Innocent')], 'no_stream'),
      store.append(contested, [anEvent('Third')], 1),
    ]);
    expect(broken.status).toBe('rejected');
    expect(innocent.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect((await store.readStream(contested)).map((e) => e.type)).toEqual(['First', 'Second', 'Third']);
    // No hole, even where a group was undone and committed again one by one: positions stay dense.
    const all = await store.readAll(0, 100);
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    await store.close();
  });

  it('gives followers the same events from memory as from the file, and what another writer put in between', async () => {
    const file = join(dir.path, 'tail.sqlite');
    const writer = new SqliteEventStore(file);
    const other = new SqliteEventStore(file);
    const stream = uniqueStream();
    await writer.append(stream, [anEvent('A', { n: 1, absent: undefined })], 'no_stream');
    await other.append(uniqueStream(), [anEvent('FromOther')], 'no_stream');
    await writer.append(stream, [anEvent('B', { list: [1, 2] })], 0);
    const fresh = new SqliteEventStore(file, { tailSize: 0 });
    // Served from memory: each range is a run this process wrote in a row.
    for (const [after, limit] of [[0, 1], [2, 10]]) expect(await writer.readAll(after, limit)).toEqual(await fresh.readAll(after, limit));
    expect(Object.keys((await writer.readAll(0, 1))[0].data)).toEqual(['n']);
    // Across the other writer's event: never a short read that would look like the end of the log.
    expect((await writer.readAll(0, 10)).map((e) => e.type)).toEqual(['A', 'FromOther', 'B']);
    for (const store of [writer, other, fresh]) await store.close();
  });

  it('commits what was asked for before a close', async () => {
    const file = join(dir.path, 'close.sqlite');
    const store = new SqliteEventStore(file);
    const stream = uniqueStream();
    const appended = store.append(stream, [anEvent()], 'no_stream');
    await store.close();
    await expect(appended).resolves.toMatchObject({ revision: 0 });
    const reopened = new SqliteEventStore(file);
    expect(await reopened.readStream(stream)).toHaveLength(1);
    await reopened.close();
  });
});
