import type { RecordedEvent } from '../event-store/event-envelope.js';
import { categoryOf } from '../event-store/event-envelope.js';

/** Receives one event; a throw means "not handled", and the bus hands the same event again. */
export type EventHandler = (event: RecordedEvent) => Promise<void>;

export interface BusConsumer {
  /** Events the bus holds for this consumer that it has not acknowledged yet. */
  pending(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * One publisher's right to publish, taken by `EventBus.takeOver`. On a bus shared by
 * several instances (JetStream) it is fenced at the bus: once another publisher took over,
 * this one's publishes are refused by the bus itself, however long it was paused and
 * whatever it believes about its lease.
 */
export interface BusPublisher {
  /**
   * The global position of the newest event the bus held when this publisher took over
   * (0 when it held none): everything up to it is published, whatever a checkpoint says.
   */
  readonly lastPosition: number;
  /**
   * Publishes events in order. Resolves with how many of them, counted from the first,
   * the bus has acknowledged; events it has seen before (same id) count as acknowledged
   * and are not delivered twice. Rejects with `PublisherFenced` once another publisher
   * took over: nothing new from this one is accepted again.
   */
  publish(events: RecordedEvent[]): Promise<number>;
}

/** Another publisher took over the bus after this one: the bus refuses this one's events. */
export class PublisherFenced extends Error {
  override readonly name = 'PublisherFenced';
  constructor(
    message: string,
    /** How many events of the refused batch, counted from the first, the bus acknowledged before the refusal. */
    readonly acknowledged = 0,
  ) {
    super(message);
  }
}

/**
 * The integration bus port: copies of stored events for projections and downstream
 * services. It is never the record; the relay is its only publisher.
 */
export interface EventBus {
  /**
   * Becomes the bus's one publisher: every publisher that took over before is refused from
   * now on. `name` says who (the relay's name), for whoever reads the bus.
   */
  takeOver(name: string): Promise<BusPublisher>;
  /**
   * Publishes through this connection's own publisher, which takes over at first use (so it
   * fences any other, the relay included): for tools and tests. Resolves as
   * `BusPublisher.publish`, with what was acknowledged before a fence instead of rejecting.
   */
  publish(events: RecordedEvent[]): Promise<number>;
  /**
   * A durable consumer: resumes after the last event it acknowledged, even across
   * restarts of the consumer, delivers in order, and acknowledges only after the
   * handler returned.
   */
  consume(durableName: string, filterSubject: string, handler: EventHandler, options?: ConsumeOptions): Promise<BusConsumer>;
  isConnected(): boolean;
  close(): Promise<void>;
}

export interface ConsumeOptions {
  /** Forget where the durable consumer was and deliver again from the oldest event the bus holds. */
  fromStart?: boolean;
}

export const SUBJECT_PREFIX = 'oauth';

/** `oauth.<category>.<EventType>`: subscribers pick categories or single types with wildcards. */
export function subjectOf(event: Pick<RecordedEvent, 'stream' | 'type'>): string {
  return `${SUBJECT_PREFIX}.${categoryOf(event.stream)}.${event.type}`;
}

/** NATS subject matching: `*` is one token, a final `>` is one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}
