import type { AllStreamResolvedEvent, AppendExpectedRevision, Direction, ReadPosition, ResolvedEvent } from '@eventstore/db-client';
import type { NewEvent, RecordedEvent } from './event-envelope.js';
import {
  AppendTooLargeError,
  checkAppendSize,
  checkExpectedRevision,
  EventStoreAccessDeniedError,
  StreamDeletedError,
  WrongExpectedVersionError,
  type AppendResult,
  type BatchHandler,
  type EventStore,
  type ExpectedRevision,
  type Subscription,
} from './event-store.js';
import { esdb, guardBatchAppends, releaseBatchAppendGuard } from './eventstoredb-client.js';
import { forClient62 } from './eventstoredb-connection-string.js';
import { followLog, type FollowOptions } from './follow-log.js';
import { countKept, firstKept, readKept, type PageSource } from './log-pages.js';
import { chainHash } from './tamper-evidence.js';

interface StoredMetadata {
  $correlationId: string;
  $causationId: string | null;
  schemaVersion: number;
  time: string;
  hash: string;
}

/**
 * EventStoreDB / KurrentDB through @eventstore/db-client 6.2, for production (see
 * docs/eventstoredb.md). The global position is the event's prepare position in $all:
 * unique per event, but a byte offset, so positions are compared, never subtracted.
 * No server can run on the project's own machines, so this adapter's contract suite
 * runs only where EVENTSTOREDB_URL is set.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client;

  constructor(connectionString: string, private readonly followOptions: FollowOptions = {}) {
    this.client = esdb().EventStoreDBClient.connectionString(forClient62(connectionString));
    guardBatchAppends(this, followOptions.log);
  }

  /**
   * The hash chain needs the stream's last event, so every append pins the exact revision
   * it chained onto; a caller's 'any' or 'stream_exists' is honoured by trying again when
   * another writer got there first.
   */
  async append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    checkAppendSize(stream, events);
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
      let result;
      try {
        result = await this.client.appendToStream(stream, prepared, { expectedRevision: pinned });
      } catch (error) {
        if (!(error instanceof esdb().WrongExpectedVersionError)) throw translate(error, stream);
        const actual = typeof error.actualVersion === 'bigint' ? Number(error.actualVersion) : 'no_stream';
        if (typeof expected === 'number' || expected === 'no_stream' || attempt >= 5) throw new WrongExpectedVersionError(stream, expected, actual);
        continue;
      }
      // A soft-deleted stream reads as absent, but the server goes on numbering after what was
      // deleted: the events landed at other revisions than their hashes cover.
      if (Number(result.nextExpectedRevision) !== revision) throw new StreamDeletedError(stream, 'deleted');
      return { revision, position: Number(result.position?.prepare ?? 0n) };
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
      throw translate(error, stream);
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
      throw translate(error, stream);
    }
    // Truncated ($tb, $maxCount, $maxAge): the server starts later than asked, and a fold of the rest would be wrong.
    if (events.length > 0 && events[0].revision !== fromRevision) throw new StreamDeletedError(stream, 'truncated');
    return events;
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    return readKept(this.pages(esdb().FORWARDS), this.from(after), after, limit);
  }

  /** The newest of our events, however many of the server's own ($stats, scavenges) follow it. */
  async headPosition(): Promise<number> {
    return (await firstKept(this.pages(esdb().BACKWARDS), esdb().END))?.position ?? 0;
  }

  async countAfter(position: number, atMost: number): Promise<number> {
    return countKept(this.pages(esdb().FORWARDS), this.from(position), position, atMost);
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    return followLog((a, l) => this.readAll(a, l), after, handler, undefined, { pollMs: 100, ...this.followOptions });
  }

  /**
   * EventStoreDB offers no dry-run append: a read of $all's last entry proves the connection
   * and the rights, not the disk (one entry, not the head, which may lie behind many of the server's own).
   */
  async checkWritable(): Promise<void> {
    await this.pages(esdb().BACKWARDS)(esdb().END, 1);
  }

  async close(): Promise<void> {
    await this.client.dispose();
    releaseBatchAppendGuard(this);
  }

  /** Reading $all from a position includes it: log-pages.ts drops what was seen. */
  private from(after: number): ReadPosition {
    return after === 0 ? esdb().START : { commit: BigInt(after), prepare: BigInt(after) };
  }

  /** Raw pages of $all, the server's own events included, so that a run of them is read past. */
  private pages(direction: Direction): PageSource<ReadPosition> {
    return async (from, maxCount) => {
      const page = [];
      try {
        for await (const resolved of this.client.readAll({ fromPosition: from, maxCount, direction })) {
          const at = resolved.event?.position;
          page.push({ cursor: at ?? from, position: at ? Number(at.prepare) : -1, event: this.toRecorded(resolved) });
        }
      } catch (error) {
        throw translate(error, '$all');
      }
      return page;
    };
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

/** The client's errors that mean something to the server, in the port's own words (event-store.ts). */
function translate(error: unknown, stream: string): unknown {
  const client = esdb();
  if (error instanceof client.AccessDeniedError) return new EventStoreAccessDeniedError(stream, error);
  if (error instanceof client.StreamDeletedError) return new StreamDeletedError(stream, 'tombstoned');
  if (error instanceof client.MaxAppendSizeExceededError) return new AppendTooLargeError(stream, undefined, error.maxAppendSize);
  return error;
}
