import { createRequire } from 'node:module';
import type * as Esdb from '@eventstore/db-client';
import type { Logger } from '../observability/logger.js';

/**
 * The client (and gRPC under it) is loaded on first use: about 26 MB of memory and a
 * slower start that the embedded default, which never talks to EventStoreDB, does not pay.
 */
let loaded: typeof Esdb | undefined;
export const esdb = (): typeof Esdb => (loaded ??= createRequire(import.meta.url)('@eventstore/db-client') as typeof Esdb);

/**
 * 6.2.1 keeps one promise per batched append in a process-wide map; a transport error
 * rejects and forgets them all, and a response that arrives after that finds nothing and
 * throws `TypeError: undefined is not iterable` inside gRPC's promise chain: an unhandled
 * rejection, which ends the process (fixed in @kurrent/kurrentdb-client). Its append was
 * already answered with the transport error, so nothing waits for it. (Its stack names the
 * client's file, as built or, with source maps, as written.)
 */
export function isLateBatchAppendResponse(reason: unknown): boolean {
  return reason instanceof TypeError && /is not iterable/.test(reason.message) && /db-client[\\/](dist|src)[\\/]streams[\\/]appendToStream[\\/]batchAppend\.(js|ts)/.test(reason.stack ?? '');
}

const guarded = new Set<object>();
let log: Pick<Logger, 'error'> = { error: (message, fields) => console.error(message, fields) };

function onUnhandledRejection(reason: unknown): void {
  if (isLateBatchAppendResponse(reason)) {
    log?.error('EventStoreDB client: a batched append answered after its connection failed; ignored (a known fault of @eventstore/db-client 6.2.1)', { error: (reason as Error).message });
    return;
  }
  // Alone, this listener would silence every other unhandled rejection: keep Node's default, which ends the process.
  if (process.listenerCount('unhandledRejection') === 1) throw reason;
}

/** While an adapter is open, the process survives that one fault and nothing else changes. */
export function guardBatchAppends(owner: object, logger: Pick<Logger, 'error'> | undefined): void {
  log = logger ?? log;
  if (guarded.size === 0) process.on('unhandledRejection', onUnhandledRejection);
  guarded.add(owner);
}

export function releaseBatchAppendGuard(owner: object): void {
  if (!guarded.delete(owner) || guarded.size > 0) return;
  process.off('unhandledRejection', onUnhandledRejection);
}
