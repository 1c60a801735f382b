import type { RecordedEvent } from '../src/event-store/event-envelope.js';

/**
 * A read model as a set of documents, each folded from the events that name its key.
 * `evolve` is pure: the same document and event always give the same result, so a
 * projection rebuilt from the store comes out identical to the live one.
 */
export interface Projection<V = unknown> {
  readonly name: string;
  /** The keys of the documents this event changes; empty when it is not this projection's concern. */
  keysOf(event: RecordedEvent): readonly string[];
  /** The document after the event; undefined removes it. */
  evolve(current: V | undefined, event: RecordedEvent, key: string): V | undefined;
  /**
   * For documents that stop mattering at a known time: that time (ISO, UTC), or undefined to
   * keep the document. The runner removes it once it applies an event stamped later, in the
   * same step as the event (see expiring-documents.ts).
   */
  expiresAt?(document: V): string | undefined;
  /**
   * The version of the fold (1 when absent). Raise it when `keysOf` or `evolve` change what
   * the documents hold: a store that outlives its process and holds an older fold is then
   * folded again from the first event, instead of keeping documents this code would not make.
   */
  readonly version?: number;
}

export const defineProjection = <V>(projection: Projection<V>): Projection<V> => projection;
