import { join } from 'node:path';
import { defineProjection } from '../../projections/projection.js';
import { MemoryProjectionStore, type ProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner, rebuildProjection } from '../../projections/projection-runner.js';
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
