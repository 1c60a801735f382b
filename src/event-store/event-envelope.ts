/**
 * The event envelope: what every stored and broadcast event carries.
 * Positions and revisions are JavaScript numbers: exact up to 2^53, far beyond any
 * log this server will write, and they survive JSON on NATS unchanged.
 */
export interface EventMetadata {
  /** Joins an HTTP request's log lines to every event it caused. */
  correlationId: string;
  /** The id of the command or event that directly caused this one. */
  causationId: string | null;
}

/** An event as a decider emits it: the domain part, before the store gives it a place. */
export interface DomainEvent<T extends string = string, D = Record<string, unknown>> {
  type: T;
  data: D;
  /** Version of `data`'s schema for this type; readers upcast older versions. */
  schemaVersion?: number;
}

/** An event ready to append: the domain part plus identity, time and causality. */
export interface NewEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  schemaVersion: number;
  time: string;
  correlationId: string;
  causationId: string | null;
}

/** An event as the store recorded it. */
export interface RecordedEvent extends NewEvent {
  stream: string;
  /** Place in its stream, from 0. */
  revision: number;
  /** Place in the store's global ordered log, strictly increasing, from 1. */
  position: number;
  /** SHA-256 chained to the previous event of the stream (see tamper-evidence.ts). */
  hash: string;
}

/** Streams are named `<category>-<id>`; the category is the part before the first dash. */
export function categoryOf(stream: string): string {
  const dash = stream.indexOf('-');
  return dash === -1 ? stream : stream.slice(0, dash);
}
