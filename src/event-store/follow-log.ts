import type { EventEmitter } from 'node:events';
import type { RecordedEvent } from './event-envelope.js';
import type { BatchHandler, Subscription } from './event-store.js';

export interface FollowOptions {
  batchSize?: number;
  /** How often to look for events written by other processes. */
  pollMs?: number;
  /** Wait before giving a failed batch to the handler again. */
  retryMs?: number;
}

/**
 * Follows a global log by reading it forward: one piece of code for every adapter.
 * Appends in this process wake it at once; appends by other processes are
 * found by polling. A batch whose handler throws is read and handed over again, so a
 * handler sees every event at least once and always in order.
 */
export function followLog(
  readAll: (after: number, limit: number) => Promise<RecordedEvent[]>,
  after: number,
  handler: BatchHandler,
  /** Emits 'append' whenever this process appends; undefined where only polling can tell. */
  appended: EventEmitter | undefined,
  options: FollowOptions = {},
): Subscription {
  const { batchSize = 512, pollMs = 200, retryMs = 500 } = options;
  let stopped = false;
  let wake: (() => void) | undefined;
  let pending = false;
  const onAppend = () => {
    pending = true;
    wake?.();
  };
  appended?.on('append', onAppend);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const loop = (async () => {
    let position = after;
    while (!stopped) {
      pending = false;
      let batch: RecordedEvent[];
      try {
        batch = await readAll(position, batchSize);
      } catch {
        await sleep(retryMs);
        continue;
      }
      if (batch.length === 0) {
        if (!pending && !stopped) await sleep(pollMs);
        continue;
      }
      try {
        await handler(batch);
        position = batch[batch.length - 1].position;
      } catch {
        if (!stopped) await sleep(retryMs);
        continue;
      }
      // A short batch was the end of the log; unless this process appended since, there is
      // nothing to read until it does (or, for other writers, until the next poll).
      if (batch.length < batchSize && !pending && appended && !stopped) await sleep(pollMs);
    }
  })();

  return {
    async stop() {
      stopped = true;
      appended?.off('append', onAppend);
      wake?.();
      await loop;
    },
  };
}
