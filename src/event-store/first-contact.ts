import type { Logger } from '../observability/logger.js';
import { EventStoreAccessDeniedError, type EventStore } from './event-store.js';

export interface FirstContactOptions {
  /** Tries in all, the first included (default 10). */
  attempts?: number;
  /** Wait after the first failure, doubled after each (default 250 ms). */
  firstDelayMs?: number;
  /** The longest wait between two tries (default 8 s): about 40 s in all with the defaults. */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Reads the store's head until it answers: a store started beside the server (a cold
 * `docker-compose up`) takes seconds to listen, and a server that gave up at once would
 * stay down. Bounded, so a wrong address still fails the start, with the store's error; a
 * refusal of access is not retried, since waiting does not change it.
 */
export async function reachEventStore(store: EventStore, log?: Pick<Logger, 'error' | 'info'>, options: FirstContactOptions = {}): Promise<number> {
  const { attempts = 10, firstDelayMs = 250, maxDelayMs = 8000, sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      const head = await store.headPosition();
      if (attempt > 1) log?.info('reached the event store', { attempt });
      return head;
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (error instanceof EventStoreAccessDeniedError || attempt >= attempts) {
        log?.error('cannot reach the event store; giving up', { attempt, attempts, error: reason });
        throw error;
      }
      const delayMs = Math.min(maxDelayMs, firstDelayMs * 2 ** (attempt - 1));
      log?.error('cannot reach the event store yet; trying again', { attempt, attempts, delayMs, error: reason });
      await sleep(delayMs);
    }
  }
}
