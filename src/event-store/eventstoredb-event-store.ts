import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { NewEvent, RecordedEvent } from './event-envelope.js';
import {
  WrongExpectedVersionError,
  type AppendResult,
  type BatchHandler,
  type EventStore,
  type ExpectedRevision,
  type Subscription,
} from './event-store.js';
import { followLog, type FollowOptions } from './follow-log.js';

interface StoredMetadata {
  $correlationId: string;
  $causationId: string | null;
  schemaVersion: number;
  time: string;
}

const toExpected = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === 'any' ? ANY : expected === 'no_stream' ? NO_STREAM : expected === 'stream_exists' ? STREAM_EXISTS : BigInt(expected);

/**
 * EventStoreDB / KurrentDB through @eventstore/db-client, for production.
 * The global position is the event's prepare position in $all, unique per event.
 * No server can run on the project's own machines, so this adapter's contract suite
 * runs only where EVENTSTOREDB_URL is set.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client;

  constructor(connectionString: string, private readonly followOptions: FollowOptions = {}) {
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  async append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    try {
      const result = await this.client.appendToStream(
        stream,
        events.map((event) =>
          jsonEvent({
            id: event.id,
            type: event.type,
            data: event.data,
            metadata: {
              $correlationId: event.correlationId,
              $causationId: event.causationId,
              schemaVersion: event.schemaVersion,
              time: event.time,
            } satisfies StoredMetadata,
          }),
        ),
        { expectedRevision: toExpected(expected) },
      );
      return { revision: Number(result.nextExpectedRevision), position: Number(result.position?.prepare ?? 0n) };
    } catch (error) {
      if (error instanceof EsdbWrongExpectedVersionError) {
        const actual = typeof error.actualVersion === 'bigint' ? Number(error.actualVersion) : 'no_stream';
        throw new WrongExpectedVersionError(stream, expected, actual);
      }
      throw error;
    }
  }

  async readStream(stream: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(stream, { fromRevision: START, direction: FORWARDS })) {
        const event = this.toRecorded(resolved);
        if (event) events.push(event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    const from = after === 0 ? START : { commit: BigInt(after), prepare: BigInt(after) };
    const events: RecordedEvent[] = [];
    // Reading from a position includes that position, so ask for one more and drop it.
    for await (const resolved of this.client.readAll({ fromPosition: from, maxCount: limit + 1, direction: FORWARDS })) {
      const event = this.toRecorded(resolved);
      if (event && event.position > after) events.push(event);
      if (events.length === limit) break;
    }
    return events;
  }

  async headPosition(): Promise<number> {
    for await (const resolved of this.client.readAll({ fromPosition: END, maxCount: 50, direction: BACKWARDS })) {
      const event = this.toRecorded(resolved);
      if (event) return event.position;
    }
    return 0;
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    return followLog((a, l) => this.readAll(a, l), after, handler, undefined, { pollMs: 100, ...this.followOptions });
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  /** System events ($-prefixed types and streams) are EventStoreDB's own, not ours. */
  private toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
    const event = resolved.event;
    if (!event || !event.isJson || event.type.startsWith('$') || event.streamId.startsWith('$')) return undefined;
    const metadata = event.metadata as unknown as StoredMetadata;
    return {
      id: event.id,
      type: event.type,
      stream: event.streamId,
      revision: Number(event.revision),
      position: Number(event.position?.prepare ?? 0n),
      schemaVersion: metadata.schemaVersion,
      time: metadata.time,
      correlationId: metadata.$correlationId,
      causationId: metadata.$causationId,
      data: event.data as Record<string, unknown>,
    };
  }
}
