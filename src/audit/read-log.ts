import type { RecordedEvent } from '../event-store/event-envelope.js';
import type { EventStore } from '../event-store/event-store.js';

/**
 * The whole global log, a batch at a time: memory stays flat however long the log is.
 * Stops at `upTo` (a position) when given.
 */
export async function* readLog(store: EventStore, options: { upTo?: number; batchSize?: number } = {}): AsyncGenerator<RecordedEvent[]> {
  const { upTo = Number.MAX_SAFE_INTEGER, batchSize = 4096 } = options;
  let position = 0;
  for (;;) {
    const batch = await store.readAll(position, batchSize);
    if (batch.length === 0) return;
    const within = batch[batch.length - 1].position <= upTo ? batch : batch.filter((e) => e.position <= upTo);
    if (within.length > 0) yield within;
    if (within.length < batch.length) return;
    position = batch[batch.length - 1].position;
  }
}
