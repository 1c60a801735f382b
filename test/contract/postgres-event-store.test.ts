import pg from 'pg';
import type { Io } from '../../src/cli/admin.js';
import { runAudit } from '../../src/cli/audit.js';
import { loadConfig } from '../../src/config/config.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { WrongExpectedVersionError, type ExpectedRevision } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres-event-store.js';
import { chainHash } from '../../src/event-store/tamper-evidence.js';
import { openRawEventStore } from '../../src/system/adapters.js';
import { anEvent, uniqueStream } from '../support/events.js';
import { startPostgres, type PrivatePostgres } from '../support/postgres.js';
import { waitFor } from '../support/wait-for.js';

// One server for the file; each test its own database, so "the table" is that test's events only.
let server: PrivatePostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server.stop());

const stores: PostgresEventStore[] = [];
const open = (url: string, options: ConstructorParameters<typeof PostgresEventStore>[1] = {}) => {
  const store = new PostgresEventStore(url, options);
  stores.push(store);
  return store;
};
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

describe('PostgreSQL appends, from many writers at once', () => {
  it('gives a follower every committed event exactly once and in position order, equal to the table', async () => {
    const url = await server.createDatabase('many_writers');
    // Four stores stand for four server processes, each with its own pool; the follower is a fifth.
    const writers = Array.from({ length: 4 }, () => open(url, { poolSize: 5 }));
    const follower = open(url, { pollMs: 5000 });
    const seen: RecordedEvent[] = [];
    const subscription = follower.subscribeAll(0, async (batch) => {
      seen.push(...batch);
    });
    const streams = Array.from({ length: 15 }, () => uniqueStream('race'));
    const revisions = new Map<string, number>();
    let committed = 0;
    let conflicts = 0;
    let anyRefused = 0;
    const appender = async (n: number) => {
      const store = writers[n % writers.length];
      for (let i = 0; i < 50; i++) {
        const stream = streams[Math.floor(Math.random() * streams.length)];
        // Mostly what this appender last saw of the stream, often stale by now: the losers of those races must be refused.
        const known = revisions.get(stream);
        const expected: ExpectedRevision = i % 5 === 0 ? 'any' : known === undefined ? 'no_stream' : known;
        const events = Array.from({ length: 1 + (i % 3) }, (_, k) => anEvent('Raced', { appender: n, i, k }));
        try {
          const { revision } = await store.append(stream, events, expected);
          revisions.set(stream, revision);
          committed += events.length;
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
          conflicts += 1;
          if (expected === 'any') anyRefused += 1;
          if (typeof error.actual === 'number') revisions.set(stream, error.actual);
          else revisions.delete(stream);
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, n) => appender(n)));
    await waitFor(() => seen.length >= committed, 'the follower to catch up', 10_000);
    await subscription.stop();

    const table = await server.query<{ id: string; position: string }>('many_writers', 'SELECT id, position FROM events ORDER BY position');
    expect(conflicts).toBeGreaterThan(0);
    // 'any' chains onto whatever is last when its turn comes: a writer that got there first never refuses it.
    expect(anyRefused).toBe(0);
    expect(table).toHaveLength(committed);
    expect(seen.map((e) => e.id)).toEqual(table.map((row) => row.id));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(seen.map((e) => e.position)).toEqual(table.map((_, i) => i + 1));
    // Every stream's revisions run 0, 1, 2... in the order the follower saw them.
    const last = new Map<string, number>();
    for (const event of seen) {
      expect(event.revision).toBe((last.get(event.stream) ?? -1) + 1);
      last.set(event.stream, event.revision);
    }
  });

  it('commits appends made together in one group, where a lost race or a duplicate event id fails only its own append', async () => {
    const url = await server.createDatabase('groups');
    const store = open(url);
    const contested = uniqueStream();
    await store.append(contested, [anEvent('First')], 'no_stream');
    const duplicate = anEvent('Twice');
    await store.append(uniqueStream(), [duplicate], 'no_stream');
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => store.append(uniqueStream(), [anEvent('Other', { i })], 'no_stream')),
      store.append(contested, [anEvent('Late')], 'no_stream'),
      store.append(contested, [anEvent('Second')], 0),
      store.append(contested, [anEvent('Third')], 1),
      store.append(uniqueStream(), [duplicate], 'no_stream'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([...Array<string>(10).fill('fulfilled'), 'rejected', 'fulfilled', 'fulfilled', 'rejected']);
    expect(outcomes[10]).toMatchObject({ reason: expect.any(WrongExpectedVersionError) });
    expect((await store.readStream(contested)).map((e) => e.type)).toEqual(['First', 'Second', 'Third']);
    // Undone and committed again one by one, the group leaves no hole: positions stay dense.
    const all = await store.readAll(0, 100);
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    expect(await store.highestPositionAssigned()).toBe(14);
  });

  it('lets no append commit past a slower one that holds a lower position', async () => {
    const url = await server.createDatabase('slow_writer');
    const follower = open(url, { pollMs: 50 });
    const seen: number[] = [];
    const subscription = follower.subscribeAll(0, async (batch) => void seen.push(...batch.map((e) => e.position)));
    expect(await follower.headPosition()).toBe(0);
    // A slow writer in another process: it has taken position 1 and not committed yet.
    const slow = new pg.Client({ connectionString: url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      const [{ position }] = (await slow.query<{ position: string }>('SELECT position FROM event_log_head WHERE one FOR UPDATE')).rows;
      const event = { ...anEvent('Slow'), stream: uniqueStream(), revision: 0 };
      await slow.query(
        'INSERT INTO events (position, id, stream, revision, type, schema_version, time, correlation_id, data, hash) VALUES ($1, $2, $3, 0, $4, 1, $5, $6, $7, $8)',
        [Number(position) + 1, event.id, event.stream, event.type, event.time, event.correlationId, '{}', chainHash(null, event)],
      );
      let fastDone = false;
      const fast = open(url)
        .append(uniqueStream(), [anEvent('Fast')], 'no_stream')
        .finally(() => (fastDone = true));
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect({ fastDone, seen }).toEqual({ fastDone: false, seen: [] });
      await slow.query('UPDATE event_log_head SET position = position + 1 WHERE one');
      await slow.query('COMMIT');
      expect(await fast).toMatchObject({ position: 2 });
    } finally {
      await slow.end();
    }
    await waitFor(() => seen.length === 2, 'both events');
    expect(seen).toEqual([1, 2]);
    await subscription.stop();
  });

  it('commits what was asked for before a close', async () => {
    const url = await server.createDatabase('closing');
    const store = new PostgresEventStore(url);
    const stream = uniqueStream();
    const appended = store.append(stream, [anEvent()], 'no_stream');
    await store.close();
    await expect(appended).resolves.toMatchObject({ revision: 0, position: 1 });
    expect(await open(url).readStream(stream)).toHaveLength(1);
  });
});

describe('PostgreSQL followers, woken by LISTEN/NOTIFY', () => {
  it('see an append by another process within a second, with a poll interval of five', async () => {
    const url = await server.createDatabase('notify');
    const writer = open(url);
    const follower = open(url, { pollMs: 5000 });
    const seen: RecordedEvent[] = [];
    const subscription = follower.subscribeAll(0, async (batch) => void seen.push(...batch));
    // Let the follower find the log empty and go to sleep for its five seconds.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const started = Date.now();
    await writer.append(uniqueStream(), [anEvent('Notified')], 'no_stream');
    await waitFor(() => seen.length === 1, 'the notified event', 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    await subscription.stop();
  });

  it('listen again after the LISTEN connection is killed, and miss nothing in between', async () => {
    const url = await server.createDatabase('relisten');
    const writer = open(url);
    const follower = open(url, { pollMs: 5000, retryMs: 200 });
    const seen: string[] = [];
    const subscription = follower.subscribeAll(0, async (batch) => void seen.push(...batch.map((e) => e.type)));
    await new Promise((resolve) => setTimeout(resolve, 700));
    const killed = await server.query<{ killed: boolean }>('postgres', "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = 'relisten' AND query LIKE 'LISTEN%'");
    expect(killed).toEqual([{ killed: true }]);
    await writer.append(uniqueStream(), [anEvent('WhileAway')], 'no_stream');
    await waitFor(() => seen.length === 1, 'the event appended while the follower was not listening', 2000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writer.append(uniqueStream(), [anEvent('AfterReturn')], 'no_stream');
    await waitFor(() => seen.length === 2, 'the event appended after it listened again', 1000);
    expect(seen).toEqual(['WhileAway', 'AfterReturn']);
    await subscription.stop();
  });
});

describe('oauth-audit verify over PostgreSQL', () => {
  const captureIo = (): Io & { lines: string[]; errors: string[] } => {
    const lines: string[] = [];
    const errors: string[] = [];
    return { lines, errors, out: (l) => void lines.push(l), err: (l) => void errors.push(l), stdin: () => '' };
  };

  it('passes over an untouched record and names the event changed or removed in SQL', async () => {
    const url = await server.createDatabase('audited');
    const store = open(url);
    const streams = [uniqueStream(), uniqueStream()];
    for (const [i, stream] of streams.entries()) {
      await store.append(stream, [anEvent('A', { i, amount: 1 }), anEvent('B', { i })], 'no_stream');
      await store.append(stream, [anEvent('C', { i })], 1);
    }
    // An auditor needs no secret store key: only what opens the secret store asks for it.
    const env = { DATABASE_URL: url, DATA_DIR: '/nonexistent' };
    const clean = captureIo();
    expect(await runAudit(['verify'], env, clean)).toBe(0);
    expect(clean.lines).toEqual(['ok: 6 events, every hash chain intact, no event missing']);

    await server.query('audited', `UPDATE events SET data = '{"amount":1000,"i":0}' WHERE stream = $1 AND revision = 0`, [streams[0]]);
    const changed = captureIo();
    expect(await runAudit(['verify'], env, changed)).toBe(1);
    expect(changed.errors.join('\n')).toMatch(new RegExp(`TAMPERED: event .* \\(stream ${streams[0]}, revision 0, position 1, A\\)`));

    await server.query('audited', `UPDATE events SET data = '{"amount":1,"i":0}' WHERE stream = $1 AND revision = 0`, [streams[0]]);
    // The newest event of a stream: its chain alone cannot show it gone, the dense positions can.
    await server.query('audited', 'DELETE FROM events WHERE position = 6');
    const removed = captureIo();
    expect(await runAudit(['verify'], env, removed)).toBe(1);
    expect(removed.errors.join('\n')).toMatch(/TAMPERED: the event at position 6 is missing/);
  });
});

describe('PostgreSQL readiness', () => {
  it('is writable for the owner of the tables, and not for a user who may only read them', async () => {
    const url = await server.createDatabase('rights');
    const owner = open(url);
    await owner.checkWritable();
    await server.query('rights', 'CREATE ROLE reader LOGIN; GRANT SELECT ON events, event_log_head TO reader');
    const reader = open(url.replace('postgres@', 'reader@'));
    expect(await reader.headPosition()).toBe(0);
    await expect(reader.checkWritable()).rejects.toThrow(/read-only here/);
    await expect(reader.append(uniqueStream(), [anEvent()], 'no_stream')).rejects.toThrow(/permission denied/);
  });
});

describe('DATABASE_URL', () => {
  it('selects the PostgreSQL record', async () => {
    const store = openRawEventStore(loadConfig({ DATABASE_URL: server.url() }));
    expect(store).toBeInstanceOf(PostgresEventStore);
    expect(await store.headPosition()).toBe(0);
    await store.close();
  });
});
