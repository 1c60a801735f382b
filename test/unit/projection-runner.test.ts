import Database from 'better-sqlite3';
import { join } from 'node:path';
import { defineProjection } from '../support/projections.js';
import { MemoryProjectionStore, type ProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner, ProjectionsStalled, rebuildProjection } from '../../projections/projection-runner.js';
import { SqliteProjectionStore } from '../../projections/sqlite-projection-store.js';
import { MemoryEventStore } from '../../src/event-store/memory-event-store.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { anEvent } from '../support/events.js';
import { tempDir } from '../../src/dev/temp-dir.js';

const counts = defineProjection<number>({
  name: 'counts',
  keysOf: (event) => (event.type === 'Counted' ? [String(event.data.key)] : []),
  evolve: (current, event) => (event.data.remove ? undefined : (current ?? 0) + 1),
});

const dir = tempDir();
afterAll(() => dir.remove());

function recorded(position: number, data: Record<string, unknown>, type = 'Counted'): RecordedEvent {
  return { ...anEvent(type, data), stream: 'count-1', revision: position - 1, position, hash: '' };
}

describe.each<[string, () => ProjectionStore]>([
  ['memory', () => new MemoryProjectionStore()],
  ['sqlite', () => new SqliteProjectionStore(join(dir.path, `${Math.random()}.sqlite`))],
])('projection runner on the %s projection store', (_name, makeStore) => {
  it('applies events and moves the checkpoint with the documents', () => {
    const store = makeStore();
    const runner = new ProjectionRunner([counts], store);
    runner.apply([recorded(1, { key: 'a' }), recorded(2, { key: 'b' }), recorded(3, { key: 'a' }), recorded(4, {}, 'Other')]);
    expect(store.entries('counts')).toEqual([['a', 2], ['b', 1]]);
    expect(store.checkpoint('counts')).toBe(4);
    runner.apply([recorded(5, { key: 'b', remove: true })]);
    expect(store.entries('counts')).toEqual([['a', 2]]);
    store.close();
  });

  it('lists the documents of one group without the others', () => {
    const store = makeStore();
    const grouped = defineProjection<number>({ name: 'grouped', keysOf: (e) => [String(e.data.key)], evolve: (c, e) => (e.data.remove ? undefined : (c ?? 0) + 1) });
    const runner = new ProjectionRunner([grouped], store);
    runner.apply([recorded(1, { key: 'u1/a' }), recorded(2, { key: 'u1/b' }), recorded(3, { key: 'u10/a' }), recorded(4, { key: 'u1' }), recorded(5, { key: 'u2/a' })]);
    expect(store.entriesIn('grouped', 'u1')).toEqual([['u1/a', 1], ['u1/b', 1]]);
    runner.apply([recorded(6, { key: 'u1/a', remove: true })]);
    expect(store.entriesIn('grouped', 'u1')).toEqual([['u1/b', 1]]);
    expect(store.entriesIn('grouped', 'nobody')).toEqual([]);
    store.close();
  });

  it('skips what it has applied already, so a replay or a duplicate changes nothing', () => {
    const store = makeStore();
    const runner = new ProjectionRunner([counts], store);
    const events = [recorded(1, { key: 'a' }), recorded(2, { key: 'a' })];
    runner.apply(events);
    runner.apply(events);
    runner.apply([events[1], recorded(3, { key: 'a' })]);
    expect(store.get('counts', 'a')).toBe(3);
    expect(store.checkpoint('counts')).toBe(3);
    store.close();
  });
});

it('keeps documents and checkpoint of a SQLite projection store across a reopen', () => {
  const file = join(dir.path, 'kept.sqlite');
  const first = new SqliteProjectionStore(file);
  new ProjectionRunner([counts], first).apply([recorded(1, { key: 'k' })]);
  first.close();
  const second = new SqliteProjectionStore(file);
  expect(second.get('counts', 'k')).toBe(1);
  expect(new ProjectionRunner([counts], second).position).toBe(1);
  second.close();
});

it('follows the event store live and rebuilds to the same documents from scratch', async () => {
  const events = new MemoryEventStore({ pollMs: 10 });
  const live = new ProjectionRunner([counts], new MemoryProjectionStore());
  live.followStore(events);
  for (let i = 0; i < 30; i++) await events.append(`count-${i % 3}`, [anEvent('Counted', { key: `k${i % 7}` })], 'any');
  await live.waitFor(30);
  await live.stop();
  const rebuilt = await rebuildProjection(counts, events);
  expect(rebuilt.entries('counts')).toEqual(live.store.entries('counts'));
  expect(live.store.entries('counts')).toHaveLength(7);
});

describe('a projection that cannot apply an event', () => {
  // Throws on a "Poison" event until told it may pass: a bug fixed, a disk freed.
  let poisonPasses = false;
  const fragile = defineProjection<number>({
    name: 'fragile',
    keysOf: (event) => (event.type === 'Counted' || event.type === 'Poison' ? [String(event.data.key)] : []),
    evolve: (current, event) => {
      if (event.type === 'Poison' && !poisonPasses) throw new TypeError('cannot read this one');
      return (current ?? 0) + 1;
    },
  });
  const logged = () => {
    const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
    return { lines, log: { error: (message: string, fields?: Record<string, unknown>) => void lines.push({ level: 'error', message, fields }), info: (message: string, fields?: Record<string, unknown>) => void lines.push({ level: 'info', message, fields }) } };
  };
  beforeEach(() => {
    poisonPasses = false;
  });

  it('keeps what came before it, holds there, and does not hold back the other projections', () => {
    const store = new MemoryProjectionStore();
    const { lines, log } = logged();
    const runner = new ProjectionRunner([fragile, counts], store, log);
    const batch = [recorded(1, { key: 'a' }), recorded(2, { key: 'a', secretish: 'data-stays-out' }, 'Poison'), recorded(3, { key: 'a' })];
    expect(() => runner.apply(batch)).toThrow(ProjectionsStalled);
    expect(store.checkpoint('fragile')).toBe(1);
    expect(store.get('fragile', 'a')).toBe(1);
    // The projection after it in the list got the whole batch.
    expect(store.checkpoint('counts')).toBe(3);
    expect(store.get('counts', 'a')).toBe(2);
    expect(runner.stalled()).toEqual([expect.objectContaining({ projection: 'fragile', position: 2, type: 'Poison', schemaVersion: 1, error: 'TypeError: cannot read this one' })]);
    expect(runner.position).toBe(1);

    // The feed gives the batch again and again: one line says so, not one per attempt.
    for (let attempt = 0; attempt < 3; attempt++) expect(() => runner.apply(batch)).toThrow(/fragile cannot apply event 2 \(Poison v1\): TypeError: cannot read this one/);
    expect(store.get('counts', 'a')).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', fields: { projection: 'fragile', position: 2, type: 'Poison' } });
    expect(JSON.stringify(lines)).not.toContain('data-stays-out');

    poisonPasses = true;
    runner.apply(batch);
    expect(store.get('fragile', 'a')).toBe(3);
    expect(runner.stalled()).toEqual([]);
    expect(runner.position).toBe(3);
    expect(lines.map((l) => l.level)).toEqual(['error', 'info']);
  });

  it('changes all of an event\'s documents or none, so a retry never applies it twice to some', () => {
    const twoKeys = defineProjection<number>({
      name: 'two-keys',
      keysOf: () => ['first', 'second'],
      evolve: (current, event, key) => {
        if (key === 'second' && event.data.fail && !poisonPasses) throw new Error('second key refused');
        return (current ?? 0) + 1;
      },
    });
    const store = new MemoryProjectionStore();
    const runner = new ProjectionRunner([twoKeys], store);
    expect(() => runner.apply([recorded(1, {}), recorded(2, { fail: true })])).toThrow(ProjectionsStalled);
    expect([store.get('two-keys', 'first'), store.get('two-keys', 'second')]).toEqual([1, 1]);
    poisonPasses = true;
    runner.apply([recorded(2, { fail: true })]);
    expect([store.get('two-keys', 'first'), store.get('two-keys', 'second')]).toEqual([2, 2]);
  });

  it('stops every projection at an event no upcaster can lift, with the events before it applied', () => {
    const store = new MemoryProjectionStore();
    const runner = new ProjectionRunner([counts, fragile], store);
    const unreadable = { ...recorded(2, { jti: 'j' }, 'AccessTokenIssued'), schemaVersion: 0 };
    expect(() => runner.apply([recorded(1, { key: 'a' }), unreadable, recorded(3, { key: 'a' })])).toThrow(/counts cannot apply event 2 \(AccessTokenIssued v0\): InvalidEventData/);
    expect([store.checkpoint('counts'), store.checkpoint('fragile')]).toEqual([1, 1]);
    expect(runner.stalled().map((s) => s.projection)).toEqual(['counts', 'fragile']);
  });

  it('holds at the first event it still needs when its store refuses the batch', () => {
    const store = new MemoryProjectionStore();
    let full = true;
    const refusing = Object.assign(Object.create(store) as MemoryProjectionStore, {
      apply: (name: string, changes: ReadonlyMap<string, unknown>, position: number) => {
        if (full) throw Object.assign(new Error('database or disk is full'), { name: 'SqliteError' });
        store.apply(name, changes, position);
      },
    });
    const runner = new ProjectionRunner([counts], refusing);
    expect(() => runner.apply([recorded(1, { key: 'a' }), recorded(2, { key: 'a' })])).toThrow(/counts cannot apply event 1 \(Counted v1\): SqliteError: database or disk is full/);
    full = false;
    runner.apply([recorded(1, { key: 'a' }), recorded(2, { key: 'a' })]);
    expect(store.get('counts', 'a')).toBe(2);
    expect(runner.stalled()).toEqual([]);
  });

  it('says which projection is stuck, and on what, when a wait for it runs out', async () => {
    const runner = new ProjectionRunner([fragile], new MemoryProjectionStore());
    expect(() => runner.apply([recorded(1, { key: 'a' }, 'Poison')])).toThrow(ProjectionsStalled);
    await expect(runner.waitFor(1, 50)).rejects.toThrow('projections did not reach 1: fragile cannot apply event 1 (Poison v1): TypeError: cannot read this one');
  });
});

describe('a store that holds another version of a fold', () => {
  const countsV2 = defineProjection<number>({ ...counts, version: 2, evolve: (current) => (current ?? 0) + 10 });

  it('is folded again from the first event when the runner starts following, and the others keep theirs', async () => {
    const file = join(dir.path, `folds-${Math.random()}.sqlite`);
    const events = new MemoryEventStore({ pollMs: 10 });
    for (let i = 0; i < 3; i++) await events.append('count-1', [anEvent('Counted', { key: 'a' })], 'any');
    const other = defineProjection<number>({ ...counts, name: 'other' });

    const before = new ProjectionRunner([counts, other], new SqliteProjectionStore(file));
    before.followStore(events);
    await before.waitFor(3);
    await before.stop();
    before.store.close();
    

    const lines: string[] = [];
    const store = new SqliteProjectionStore(file);
    const after = new ProjectionRunner([countsV2, other], store, { error: (m) => void lines.push(m), info: (m) => void lines.push(m) });
    after.followStore(events);
    await after.waitFor(3);
    await after.stop();
    expect(store.get('counts', 'a')).toBe(30);
    expect(store.foldVersion('counts')).toBe(2);
    expect(store.get('other', 'a')).toBe(3);
    expect(lines).toEqual(['projection folded again from the first event: its store holds another version of its fold']);
    store.close();
  });

  it('records the version of a fresh store without a word', async () => {
    const store = new MemoryProjectionStore();
    const lines: string[] = [];
    const runner = new ProjectionRunner([countsV2], store, { error: (m) => void lines.push(m), info: (m) => void lines.push(m) });
    runner.followStore(new MemoryEventStore({ pollMs: 10 }));
    await runner.stop();
    expect(store.foldVersion('counts')).toBe(2);
    expect(lines).toEqual([]);
  });

  it('reads a SQLite file written before folds had versions as holding the first', () => {
    const file = join(dir.path, `unversioned-${Math.random()}.sqlite`);
    const old = new Database(file);
    old.exec(`CREATE TABLE projection_checkpoints (projection TEXT PRIMARY KEY, position INTEGER NOT NULL);
      INSERT INTO projection_checkpoints VALUES ('counts', 7);`);
    old.close();
    const store = new SqliteProjectionStore(file);
    expect([store.checkpoint('counts'), store.foldVersion('counts'), store.foldVersion('never-seen')]).toEqual([7, 1, undefined]);
    store.close();
  });
});
