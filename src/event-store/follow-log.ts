import type { EventEmitter } from 'node:events';
import type { RecordedEvent } from './event-envelope.js';
import type { BatchHandler, Subscription } from './event-store.js';
import type { Logger } from '../observability/logger.js';

export interface FollowOptions {
  batchSize?: number;
  /** How often to look for events written by other processes. */
  pollMs?: number;
  /** Wait before giving a failed batch to the handler again. */
  retryMs?: number;
  /** Where a log that cannot be read is reported: once when it starts failing, once when it reads again. */
  log?: Pick<Logger, 'error' | 'info'>;
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
  const { batchSize = 512, pollMs = 200, retryMs = 500, log } = options;
  let stopped = false;
  let position = after;
  // Retried in silence, a read that keeps failing (say, a user without access to $all) would only look like a stall.
  let failure: string | undefined;
  const failed = (error: unknown) => {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (failure === undefined) log?.error('cannot read the event store to follow it; retrying', { error: reason, position });
    failure = reason;
  };
  const recovered = () => {
    if (failure === undefined) return;
    failure = undefined;
    log?.info('reading the event store again', { position });
  };
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
    while (!stopped) {
      pending = false;
      let batch: RecordedEvent[];
      try {
        batch = await readAll(position, batchSize);
        recovered();
      } catch (error) {
        failed(error);
        if (!stopped) await sleep(retryMs);
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
    readFailure: () => (failure === undefined ? undefined : `cannot read the event store: ${failure}`),
    async stop() {
      stopped = true;
      appended?.off('append', onAppend);
      wake?.();
      await loop;
    },
  };
}
