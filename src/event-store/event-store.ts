import type { NewEvent, RecordedEvent } from './event-envelope.js';

/**
 * What the appender expects of the stream: absent, anything, present, or exactly
 * at this revision (the revision of its last event). The same four as EventStoreDB.
 */
export type ExpectedRevision = 'no_stream' | 'any' | 'stream_exists' | number;

export interface AppendResult {
  /** Revision of the last event appended. */
  revision: number;
  /** Global position of the last event appended. */
  position: number;
}

/** A live subscription to the global log; `stop` resolves once no handler runs any more. */
export interface Subscription {
  stop(): Promise<void>;
}

/** Receives events in global order, a batch at a time; a throw means "give me this batch again later". */
export type BatchHandler = (events: RecordedEvent[]) => Promise<void>;

/** The event store port. The store is the only record of what happened. */
export interface EventStore {
  append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /** The stream in order from `fromRevision` (default 0: all of it); empty when the stream does not exist. */
  readStream(stream: string, fromRevision?: number): Promise<RecordedEvent[]>;
  /** Up to `limit` events of the global log after `after` (exclusive; 0 = from the start). */
  readAll(after: number, limit: number): Promise<RecordedEvent[]>;
  /** Position of the newest event, 0 when empty. */
  headPosition(): Promise<number>;
  /**
   * Where the store numbers events 1, 2, 3... without gaps (SQLite), the highest position it
   * ever gave out: a log with a gap, or ending below it, lost events. Absent where positions
   * have gaps by design (EventStoreDB's are offsets in its log).
   */
  highestPositionAssigned?(): Promise<number>;
  /** Follow the global log after `after`, live. Batches arrive in order and never overlap. */
  subscribeAll(after: number, handler: BatchHandler): Subscription;
  /** Rejects unless an append could be written now (for readiness checks); writes nothing. */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}

/** Two writers raced for one stream revision and this one lost. */
export class WrongExpectedVersionError extends Error {
  override readonly name = 'WrongExpectedVersionError';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/** The shared rule for every adapter that checks revisions itself. */
export function checkExpectedRevision(stream: string, expected: ExpectedRevision, current: number | undefined): void {
  const actual = current ?? 'no_stream';
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && current === undefined) ||
    (expected === 'stream_exists' && current !== undefined) ||
    (typeof expected === 'number' && current === expected);
  if (!ok) throw new WrongExpectedVersionError(stream, expected, actual);
}
