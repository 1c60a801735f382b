import { createRequire } from 'node:module';
import type * as Esdb from '@eventstore/db-client';
import type { AllStreamResolvedEvent, AppendExpectedRevision, ResolvedEvent } from '@eventstore/db-client';
import type { NewEvent, RecordedEvent } from './event-envelope.js';
import {
  checkExpectedRevision,
  WrongExpectedVersionError,
  type AppendResult,
  type BatchHandler,
  type EventStore,
  type ExpectedRevision,
  type Subscription,
} from './event-store.js';
import { followLog, type FollowOptions } from './follow-log.js';
import { chainHash } from './tamper-evidence.js';

/**
 * The client (and gRPC under it) is loaded on first use: about 26 MB of memory and a
 * slower start that the embedded default, which never talks to EventStoreDB, does not pay.
 */
let loaded: typeof Esdb | undefined;
const esdb = (): typeof Esdb => (loaded ??= createRequire(import.meta.url)('@eventstore/db-client') as typeof Esdb);

interface StoredMetadata {
  $correlationId: string;
  $causationId: string | null;
  schemaVersion: number;
  time: string;
  hash: string;
}

/**
 * EventStoreDB / KurrentDB through @eventstore/db-client, for production.
 * The global position is the event's prepare position in $all, unique per event.
 * No server can run on the project's own machines, so this adapter's contract suite
 * runs only where EVENTSTOREDB_URL is set.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client;

  constructor(connectionString: string, private readonly followOptions: FollowOptions = {}) {
    this.client = esdb().EventStoreDBClient.connectionString(connectionString);
  }

  /**
   * The hash chain needs the stream's last event, so every append pins the exact revision
   * it chained onto; a caller's 'any' or 'stream_exists' is honoured by trying again when
   * another writer got there first.
   */
  async append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    for (let attempt = 0; ; attempt++) {
      const last = await this.lastOf(stream);
      checkExpectedRevision(stream, expected, last?.revision);
      let revision = last?.revision ?? -1;
      let previousHash = last?.hash ?? null;
      const prepared = events.map((event) => {
        revision += 1;
        previousHash = chainHash(previousHash, { ...event, stream, revision });
        const metadata: StoredMetadata = {
          $correlationId: event.correlationId,
          $causationId: event.causationId,
          schemaVersion: event.schemaVersion,
          time: event.time,
          hash: previousHash,
        };
        return esdb().jsonEvent({ id: event.id, type: event.type, data: event.data, metadata });
      });
      const pinned: AppendExpectedRevision = last ? BigInt(last.revision) : esdb().NO_STREAM;
      try {
        const result = await this.client.appendToStream(stream, prepared, { expectedRevision: pinned });
        return { revision: Number(result.nextExpectedRevision), position: Number(result.position?.prepare ?? 0n) };
      } catch (error) {
        if (!(error instanceof esdb().WrongExpectedVersionError)) throw error;
        const actual = typeof error.actualVersion === 'bigint' ? Number(error.actualVersion) : 'no_stream';
        if (typeof expected === 'number' || expected === 'no_stream' || attempt >= 5) throw new WrongExpectedVersionError(stream, expected, actual);
      }
    }
  }

  private async lastOf(stream: string): Promise<{ revision: number; hash: string } | undefined> {
    try {
      for await (const resolved of this.client.readStream(stream, { fromRevision: esdb().END, direction: esdb().BACKWARDS, maxCount: 1 })) {
        const event = this.toRecorded(resolved);
        if (event) return { revision: event.revision, hash: event.hash };
      }
    } catch (error) {
      if (error instanceof esdb().StreamNotFoundError) return undefined;
      throw error;
    }
    return undefined;
  }

  async readStream(stream: string, fromRevision = 0): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(stream, { fromRevision: fromRevision === 0 ? esdb().START : BigInt(fromRevision), direction: esdb().FORWARDS })) {
        const event = this.toRecorded(resolved);
        if (event) events.push(event);
      }
    } catch (error) {
      if (error instanceof esdb().StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    const from = after === 0 ? esdb().START : { commit: BigInt(after), prepare: BigInt(after) };
    const events: RecordedEvent[] = [];
    // Reading from a position includes that position, so ask for one more and drop it.
    for await (const resolved of this.client.readAll({ fromPosition: from, maxCount: limit + 1, direction: esdb().FORWARDS })) {
      const event = this.toRecorded(resolved);
      if (event && event.position > after) events.push(event);
      if (events.length === limit) break;
    }
    return events;
  }

  async headPosition(): Promise<number> {
    for await (const resolved of this.client.readAll({ fromPosition: esdb().END, maxCount: 50, direction: esdb().BACKWARDS })) {
      const event = this.toRecorded(resolved);
      if (event) return event.position;
    }
    return 0;
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    return followLog((a, l) => this.readAll(a, l), after, handler, undefined, { pollMs: 100, ...this.followOptions });
  }

  /** EventStoreDB offers no dry-run append: a read of $all proves the connection, not the disk. */
  async checkWritable(): Promise<void> {
    await this.headPosition();
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
      hash: metadata.hash,
    };
  }
}
