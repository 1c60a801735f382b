import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { NewEvent, RecordedEvent } from './event-envelope.js';
import {
  checkAppendSize,
  WrongExpectedVersionError,
  type AppendResult,
  type BatchHandler,
  type EventStore,
  type ExpectedRevision,
  type Subscription,
} from './event-store.js';
import { followLog, type FollowOptions } from './follow-log.js';
import { AppendListener } from './postgres-listener.js';
import { commitAppends, type Outcome, type PendingAppend } from './postgres-append.js';
import { fromRow, SCHEMA, SCHEMA_LOCK, TABLES_EXIST, type EventRow } from './postgres-schema.js';
import { canonicalJson } from './tamper-evidence.js';

export interface PostgresEventStoreOptions extends FollowOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

/**
 * PostgreSQL through `pg` (docs/postgresql.md). Every append locks the one row of
 * `event_log_head` first, so appends commit one after another, from every process: a
 * follower reading `position > after` can never pass a lower position that commits later
 * (the gap problem), and positions stay dense, so `audit verify` finds a removed event as
 * on SQLite. Followers are woken by LISTEN/NOTIFY and poll as a fallback.
 */
export class PostgresEventStore implements EventStore {
  private readonly pool: pg.Pool;
  private readonly listener: AppendListener;
  /** Wakes this store's followers: at once for its own appends, on a notification for other processes'. */
  private readonly local = new EventEmitter().setMaxListeners(0);
  private readonly inFlight = new Set<Promise<unknown>>();
  private queue: Array<PendingAppend & { resolve(result: AppendResult): void; reject(error: unknown): void }> = [];
  private schema: Promise<void> | undefined;

  constructor(connectionString: string, private readonly options: PostgresEventStoreOptions = {}) {
    this.pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10 });
    // An idle connection dropped by the server must not take the process down; the next query opens another.
    this.pool.on('error', (error) => options.log?.error('a PostgreSQL connection of the event store was lost', { error: error.message }));
    this.listener = new AppendListener({ connectionString }, options.retryMs ?? 500, options.log);
    this.listener.appended.on('append', () => this.local.emit('append'));
  }

  /**
   * Creates the tables on first use, and tries again after a failure (the server may not have
   * been up). Tables already there are left alone: a user without CREATE on the schema (the
   * default since PostgreSQL 15) can run the server once someone else made them.
   */
  private ready(): Promise<void> {
    this.schema ??= this.transaction(async (client) => {
      if ((await client.query<{ made: boolean }>(TABLES_EXIST)).rows[0].made) return;
      await client.query(SCHEMA_LOCK);
      await client.query(SCHEMA);
    }).catch((error: unknown) => {
      this.schema = undefined;
      throw error;
    });
    return this.schema;
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Appends asked for in the same turn of the event loop are committed together (group
   * commit, as on SQLite): the head lock is taken once per group, not once per append.
   */
  append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    // Stored as canonical JSON: the same text the chain hash covers, serialised once; refused before any round trip.
    const datas = events.map((event) => canonicalJson(event.data));
    try {
      checkAppendSize(stream, events, datas);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ stream, events, datas, expected, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => this.track(this.flush()));
    });
  }

  private track(flushing: Promise<void>): void {
    this.inFlight.add(flushing);
    void flushing.finally(() => this.inFlight.delete(flushing));
  }

  private async flush(): Promise<void> {
    const pending = this.queue;
    this.queue = [];
    // close() may have committed this turn's appends already.
    if (pending.length === 0) return;
    let outcomes: Outcome[];
    try {
      await this.ready();
      outcomes = await this.transaction((client) => commitAppends(client, pending));
    } catch {
      // Nothing of the group is recorded. Commit each on its own, so that what broke the
      // group (a duplicate event id, say) fails only the appends it concerns.
      outcomes = await Promise.all(
        pending.map((append) =>
          this.ready()
            .then(() => this.transaction((client) => commitAppends(client, [append])))
            .then(([outcome]) => outcome, (error: unknown) => ({ error })),
        ),
      );
    }
    let appended = false;
    for (const [i, outcome] of outcomes.entries()) {
      const append = pending[i];
      if ('error' in outcome) {
        append.reject(await this.refusal(outcome.error, append.stream, append.expected));
      } else {
        appended ||= append.events.length > 0;
        append.resolve(outcome.result);
      }
    }
    if (appended) this.local.emit('append');
  }

  /** The unique (stream, revision) constraint is the last line against a racing writer; the head lock should never let one through. */
  private async refusal(error: unknown, stream: string, expected: ExpectedRevision): Promise<unknown> {
    const { code, constraint } = error as { code?: string; constraint?: string };
    if (code !== '23505' || constraint !== 'events_stream_revision') return error;
    const [last] = await this.readLast(stream).catch(() => []);
    return new WrongExpectedVersionError(stream, expected, last?.revision ?? 'no_stream');
  }

  private async readLast(stream: string): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>('SELECT * FROM events WHERE stream = $1 ORDER BY revision DESC LIMIT 1', [stream]);
    return rows.map(fromRow);
  }

  async readStream(stream: string, fromRevision = 0): Promise<RecordedEvent[]> {
    await this.ready();
    const { rows } = await this.pool.query<EventRow>('SELECT * FROM events WHERE stream = $1 AND revision >= $2 ORDER BY revision', [stream, fromRevision]);
    return rows.map(fromRow);
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    await this.ready();
    const { rows } = await this.pool.query<EventRow>('SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT $2', [after, limit]);
    return rows.map(fromRow);
  }

  async headPosition(): Promise<number> {
    await this.ready();
    const { rows } = await this.pool.query<{ head: string | null }>('SELECT max(position) AS head FROM events');
    return Number(rows[0].head ?? 0);
  }

  /** Positions are dense here (the head lock hands them out one after another): a difference of positions is a count. */
  async countAfter(position: number, _atMost?: number): Promise<number> {
    return Math.max(0, (await this.headPosition()) - position);
  }

  /** What `event_log_head` says was given out: a log ending below it lost its newest events. */
  async highestPositionAssigned(): Promise<number> {
    await this.ready();
    const { rows } = await this.pool.query<{ position: string }>('SELECT position FROM event_log_head WHERE one');
    return Number(rows[0]?.position ?? 0);
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    this.listener.start();
    // Notifications wake followers; the poll is only the fallback for a lost LISTEN connection.
    return followLog((a, l) => this.readAll(a, l), after, handler, this.local, { pollMs: 1000, ...this.options });
  }

  /** A primary that lets this user insert: a standby or a read-only grant would refuse every append. */
  async checkWritable(): Promise<void> {
    await this.ready();
    const { rows } = await this.pool.query<{ writable: boolean }>(
      "SELECT NOT pg_is_in_recovery() AND has_table_privilege('events', 'INSERT') AND has_table_privilege('event_log_head', 'UPDATE') AS writable",
    );
    if (!rows[0]?.writable) throw new Error('the PostgreSQL event store is read-only here (a standby, or a user without INSERT on events)');
  }

  async close(): Promise<void> {
    // Appends already asked for are committed (or refused), never dropped.
    if (this.queue.length > 0) this.track(this.flush());
    await Promise.allSettled([...this.inFlight]);
    await this.listener.close();
    await this.pool.end();
  }
}
