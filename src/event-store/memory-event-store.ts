import { EventEmitter } from 'node:events';
import type { NewEvent, RecordedEvent } from './event-envelope.js';
import {
  checkAppendSize,
  checkExpectedRevision,
  type AppendResult,
  type BatchHandler,
  type EventStore,
  type ExpectedRevision,
  type Subscription,
} from './event-store.js';
import { followLog, type FollowOptions } from './follow-log.js';
import { chainHash } from './tamper-evidence.js';

/** The event store in memory: for unit tests and throw-away runs. */
export class MemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly appended = new EventEmitter().setMaxListeners(0);

  constructor(private readonly followOptions: FollowOptions = {}) {}

  async append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    checkAppendSize(stream, events);
    const existing = this.streams.get(stream);
    checkExpectedRevision(stream, expected, existing ? existing.length - 1 : undefined);
    const recorded = existing ?? [];
    for (const event of events) {
      const revision = recorded.length;
      const hash = chainHash(recorded[revision - 1]?.hash ?? null, { ...event, stream, revision });
      const record: RecordedEvent = { ...event, stream, revision, position: this.log.length + 1, hash };
      recorded.push(record);
      this.log.push(record);
    }
    this.streams.set(stream, recorded);
    this.appended.emit('append');
    const last = recorded[recorded.length - 1];
    return { revision: last ? last.revision : -1, position: last ? last.position : this.log.length };
  }

  async readStream(stream: string, fromRevision = 0): Promise<RecordedEvent[]> {
    return (this.streams.get(stream) ?? []).slice(fromRevision);
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    // Positions are 1-based and dense here, so position p sits at index p - 1.
    return this.log.slice(after, after + limit);
  }

  async headPosition(): Promise<number> {
    return this.log.length;
  }

  /** Positions are dense here: a difference of positions is a count. */
  async countAfter(position: number, _atMost?: number): Promise<number> {
    return Math.max(0, this.log.length - position);
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    return followLog((a, l) => this.readAll(a, l), after, handler, this.appended, this.followOptions);
  }

  async checkWritable(): Promise<void> {}

  async close(): Promise<void> {}
}
