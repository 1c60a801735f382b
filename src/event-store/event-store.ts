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
  /** Why the log cannot be read now (the follower retries), or undefined while reading works. */
  readFailure?(): string | undefined;
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
   * How many events the log holds after `position` (for lag): positions are not counts on
   * every store (EventStoreDB's are byte offsets). A store that must read the events to
   * count them stops at `atMost` and answers `atMost`.
   */
  countAfter(position: number, atMost: number): Promise<number>;
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

/**
 * The most one append may carry, data and metadata of all its events together: EventStoreDB's
 * default MaxAppendSize (1 MiB). Every adapter refuses more, so what works on SQLite works there.
 */
export const MAX_APPEND_BYTES = 1024 * 1024;

/** An append larger than the store takes in one write; nothing of it was written. */
export class AppendTooLargeError extends Error {
  override readonly name = 'AppendTooLargeError';
  constructor(
    readonly stream: string,
    readonly bytes: number | undefined,
    readonly maxBytes: number,
  ) {
    super(`stream ${stream}: an append of ${bytes ?? 'more than'} bytes is over the store's limit of ${maxBytes} bytes`);
  }
}

/**
 * What one event weighs against MAX_APPEND_BYTES: its data as JSON and the text of its
 * envelope (what EventStoreDB stores as data and metadata, give or take a few bytes of JSON).
 */
export function eventBytes(event: NewEvent, dataJson = JSON.stringify(event.data)): number {
  return Buffer.byteLength(dataJson) + Buffer.byteLength(event.id + event.type + event.time + event.correlationId + (event.causationId ?? '')) + 64;
}

/** Refuses an append over MAX_APPEND_BYTES before any adapter writes any of it. */
export function checkAppendSize(stream: string, events: readonly NewEvent[], dataJson?: readonly string[]): void {
  let bytes = 0;
  for (const [i, event] of events.entries()) bytes += eventBytes(event, dataJson?.[i]);
  if (bytes > MAX_APPEND_BYTES) throw new AppendTooLargeError(stream, bytes, MAX_APPEND_BYTES);
}

/**
 * The record is never deleted: a stream found deleted, tombstoned or truncated (by someone
 * with the store's admin rights) is refused instead of being read as shorter or new, which
 * would let a decider act on part of its history and break the hash chain.
 */
export class StreamDeletedError extends Error {
  override readonly name = 'StreamDeletedError';
  constructor(
    readonly stream: string,
    readonly how: 'tombstoned' | 'truncated' | 'deleted',
  ) {
    super(`stream ${stream} was ${how} in the event store; the record is never deleted, so it is refused`);
  }
}

/** The store's credentials may not read (or write) what the server needs, such as $all: retrying does not help. */
export class EventStoreAccessDeniedError extends Error {
  override readonly name = 'EventStoreAccessDeniedError';
  constructor(readonly what: string, cause?: unknown) {
    super(`the event store refused access to ${what}: its user needs read access to $all and write access to the server's streams`, { cause });
  }
}
