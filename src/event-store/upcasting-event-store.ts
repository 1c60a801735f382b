import type { RecordedEvent } from './event-envelope.js';
import type { AppendResult, BatchHandler, EventStore, ExpectedRevision, Subscription } from './event-store.js';
import type { NewEvent } from './event-envelope.js';

/**
 * Reads through another store, lifting every event to its current schema version, so
 * deciders and projections only ever see the newest shape. The stored events are left as
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
  subscribeAll(after: number, handler: BatchHandler): Subscription {
    return this.inner.subscribeAll(after, (batch) => handler(batch.map(this.upcast)));
  }
  checkWritable(): Promise<void> {
    return this.inner.checkWritable();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
