import type { RecordedEvent } from './event-envelope.js';
import type { AppendResult, BatchHandler, EventStore, ExpectedRevision, Subscription } from './event-store.js';
import type { NewEvent } from './event-envelope.js';

/**
 * Reads through another store, lifting every event to its current schema version, so
 * deciders and audit queries only ever see the newest shape (projections lift for themselves). The stored events are left as
 * written (their hashes cover what was written); tamper checks read the inner store.
 */
export class UpcastingEventStore implements EventStore {
  constructor(
    readonly inner: EventStore,
    private readonly upcast: (event: RecordedEvent) => RecordedEvent,
  ) {}

  append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    return this.inner.append(stream, events, expected);
  }
  async readStream(stream: string, fromRevision?: number): Promise<RecordedEvent[]> {
    return (await this.inner.readStream(stream, fromRevision)).map(this.upcast);
  }
  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    return (await this.inner.readAll(after, limit)).map(this.upcast);
  }
  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }
  countAfter(position: number, atMost: number): Promise<number> {
    return this.inner.countAfter(position, atMost);
  }
  /**
   * Followers get the log as written: the relay publishes what each hash covers (NATS
   * carries events as written), and a projection runner lifts each event itself, so one
   * that cannot be lifted stops only what must read it, and is reported there, instead of
   * failing every batch it is in here, unseen.
   */
  subscribeAll(after: number, handler: BatchHandler): Subscription {
    return this.inner.subscribeAll(after, handler);
  }
  checkWritable(): Promise<void> {
    return this.inner.checkWritable();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
