import type { EventType, OAuthEvent } from '../src/domain/events.js';
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

/** A recorded event of one of these types, its data typed by the event union (after upcasting: the runner lifts each event first). */
export type ProjectedEvent<T extends EventType> = Omit<RecordedEvent, 'type' | 'data'> & Extract<OAuthEvent, { type: T }>;

/**
 * A projection as it is written: the events it folds named once (`handles`), and its
 * `keysOf` and `evolve` given those events typed, as a reducer table names its events.
 * Events of other types never reach it.
 */
export interface ProjectionDefinition<V, T extends EventType> {
  readonly name: string;
  readonly version?: number;
  readonly handles: readonly T[];
  keysOf(event: ProjectedEvent<T>): readonly string[];
  evolve(current: V | undefined, event: ProjectedEvent<T>, key: string): V | undefined;
  expiresAt?(document: V): string | undefined;
}

const NO_KEYS: readonly string[] = [];

/** `projectionOf<Document>().folding({ name, handles, keysOf, evolve })`: the document type given, the events inferred. */
export const projectionOf = <V>() => ({ folding: <const T extends EventType>(definition: ProjectionDefinition<V, T>): Projection<V> => typedProjection(definition) });

function typedProjection<V, T extends EventType>(definition: ProjectionDefinition<V, T>): Projection<V> {
  const handled = new Set<string>(definition.handles);
  // The one place a recorded event is taken for its type: it passed its type's schema when it was appended.
  const typed = (event: RecordedEvent) => event as unknown as ProjectedEvent<T>;
  return {
    name: definition.name,
    ...(definition.version !== undefined ? { version: definition.version } : {}),
    ...(definition.expiresAt ? { expiresAt: definition.expiresAt } : {}),
    keysOf: (event) => (handled.has(event.type) ? definition.keysOf(typed(event)) : NO_KEYS),
    evolve: (current, event, key) => (handled.has(event.type) ? definition.evolve(current, typed(event), key) : current),
  };
}
