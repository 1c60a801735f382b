import type { Projection } from '../../projections/projection.js';
import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner, rebuildProjection } from '../../projections/projection-runner.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { MemoryEventStore } from '../../src/event-store/memory-event-store.js';

/**
 * A projection fed these events live, one at a time, and the same projection rebuilt from
 * a store holding them, read in its own batches: the documents of each, to compare.
 */
export async function liveAndRebuilt(projection: Projection, events: readonly RecordedEvent[]) {
  const live = new MemoryProjectionStore();
  const runner = new ProjectionRunner([projection], live);
  for (const event of events) runner.apply([event]);
  const eventStore = new MemoryEventStore();
  for (const event of events) await eventStore.append(event.stream, [event], 'any');
  const rebuilt = await rebuildProjection(projection, eventStore);
  return { live: live.entries(projection.name), rebuilt: rebuilt.entries(projection.name) };
}

/** A projection over made-up events, for tests of the runner itself: the domain's own are typed (projectionOf). */
export const defineProjection = <V>(projection: Projection<V>): Projection<V> => projection;
