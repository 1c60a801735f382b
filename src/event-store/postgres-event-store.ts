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
import { inTransaction } from './postgres-transaction.js';
import { commitAppends, type Outcome, type PendingAppend } from './postgres-append.js';
import { fromRow, SCHEMA, SCHEMA_LOCK, TABLES_EXIST, type EventRow } from './postgres-schema.js';
import { reachingStore, StoreUnavailableError } from './store-unavailable.js';
import { canonicalJson } from './tamper-evidence.js';

/** How the store names itself in StoreUnavailableError (answered 503, shown by /readyz). */
const STORE = 'the PostgreSQL event store';

export interface PostgresEventStoreOptions extends FollowOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** The longest wait for a connection, new or from a busy pool (default 3 s): a server that is away fails fast. */
  connectTimeoutMs?: number;
  /**
   * The longest one statement may run (default 4 s), as `statement_timeout` on the server (a
   * wait for the head lock behind a stuck writer ends there) and a second later on the client
   * (a server that stopped answering, a cable pulled: no socket error comes).
   */
  statementTimeoutMs?: number;
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
    const { connectTimeoutMs = 3000, statementTimeoutMs = 4000 } = options;
    // Bounded everywhere, so that with the server away a request is answered 503 within
    // about five seconds instead of waiting forever (docs/postgresql.md, "When PostgreSQL is away").
    // Keepalives find a connection whose peer vanished without a word.
    // The first probe after 10 s of silence: the OS default (two hours) would leave the LISTEN connection deaf that long.
    const connection = { connectionString, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true, keepAliveInitialDelayMillis: 10_000 };
    this.pool = new pg.Pool({
      ...connection,
      max: options.poolSize ?? 10,
      statement_timeout: statementTimeoutMs,
      query_timeout: statementTimeoutMs + 1000,
      // A writer that stops between two statements (a frozen process) holds the head lock: the server lets it go.
      idle_in_transaction_session_timeout: Math.max(10_000, 2 * statementTimeoutMs),
    });
    // An idle connection dropped by the server must not take the process down; the next query opens another.
    this.pool.on('error', (error) => options.log?.error('a PostgreSQL connection of the event store was lost', { error: error.message }));
    this.listener = new AppendListener(connection, options.retryMs ?? 500, options.log);
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

  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>, sent = { commit: false }): Promise<T> {
    return inTransaction(this.pool, STORE, work, sent);
  }


  /** A read on any pooled connection; pool.query destroys a connection that failed. */
  private async read<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]> {
    await this.ready();
    return (await reachingStore(STORE, () => this.pool.query<R>(sql, values))).rows;
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
      outcomes = await this.commitGroup(pending);
    } catch (error) {
      // Out of reach: every append of the group fails, none is tried again. A COMMIT whose
      // answer was lost may have gone through, and a second commit would record it twice.
      if (error instanceof StoreUnavailableError) outcomes = pending.map(() => ({ error }));
      // Otherwise nothing of the group is recorded. Commit each on its own, so that what broke
      // the group (a duplicate event id, say) fails only the appends it concerns.
      else outcomes = await Promise.all(pending.map((append) => this.commitGroup([append]).then(([outcome]) => outcome, (failure: unknown) => ({ error: failure }))));
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

  /** Appends in one transaction, each with its own outcome; a store out of reach fails them all. */
  private async commitGroup(appends: readonly PendingAppend[]): Promise<Outcome[]> {
    const sent = { commit: false };
    try {
      await this.ready();
      return await this.transaction((client) => commitAppends(client, appends), sent);
    } catch (error) {
      if (sent.commit && error instanceof StoreUnavailableError) this.commitUnknown(appends, error);
      throw error;
    }
  }

  /**
   * The one case where the caller's "not written" may be wrong: the connection went after
   * COMMIT was sent. The callers were answered 503 (no code or token was handed out), but the
   * events may be on record; their ids are logged so that an operator (or a test) can tell.
   */
  private commitUnknown(appends: readonly PendingAppend[], error: StoreUnavailableError): void {
    this.options.log?.error('lost PostgreSQL while committing: these events may be on record although their appends failed', {
      eventIds: appends.flatMap((append) => append.events.map((event) => event.id)),
      error: String((error.cause as Error)?.message ?? error.cause),
    });
  }

  /** The unique (stream, revision) constraint is the last line against a racing writer; the head lock should never let one through. */
  private async refusal(error: unknown, stream: string, expected: ExpectedRevision): Promise<unknown> {
    const { code, constraint } = error as { code?: string; constraint?: string };
    if (code !== '23505' || constraint !== 'events_stream_revision') return error;
    const [last] = await this.readLast(stream).catch(() => []);
    return new WrongExpectedVersionError(stream, expected, last?.revision ?? 'no_stream');
  }

  private async readLast(stream: string): Promise<RecordedEvent[]> {
    return (await this.read<EventRow>('SELECT * FROM events WHERE stream = $1 ORDER BY revision DESC LIMIT 1', [stream])).map(fromRow);
  }

  async readStream(stream: string, fromRevision = 0): Promise<RecordedEvent[]> {
    return (await this.read<EventRow>('SELECT * FROM events WHERE stream = $1 AND revision >= $2 ORDER BY revision', [stream, fromRevision])).map(fromRow);
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    return (await this.read<EventRow>('SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT $2', [after, limit])).map(fromRow);
  }

  async headPosition(): Promise<number> {
    const [row] = await this.read<{ head: string | null }>('SELECT max(position) AS head FROM events');
    return Number(row.head ?? 0);
  }

  /** Positions are dense here (the head lock hands them out one after another): a difference of positions is a count. */
  async countAfter(position: number, _atMost?: number): Promise<number> {
    return Math.max(0, (await this.headPosition()) - position);
  }

  /** What `event_log_head` says was given out: a log ending below it lost its newest events. */
  async highestPositionAssigned(): Promise<number> {
    const [row] = await this.read<{ position: string }>('SELECT position FROM event_log_head WHERE one');
    return Number(row?.position ?? 0);
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    this.listener.start();
    // Notifications wake followers; the poll is only the fallback for a lost LISTEN connection.
    return followLog((a, l) => this.readAll(a, l), after, handler, this.local, { pollMs: 1000, ...this.options });
  }

  /** A primary that lets this user insert: a standby or a read-only grant would refuse every append. */
  async checkWritable(): Promise<void> {
    const [row] = await this.read<{ writable: boolean }>(
      "SELECT NOT pg_is_in_recovery() AND has_table_privilege('events', 'INSERT') AND has_table_privilege('event_log_head', 'UPDATE') AS writable",
    );
    if (!row?.writable) throw new Error('the PostgreSQL event store is read-only here (a standby, or a user without INSERT on events)');
  }

  async close(): Promise<void> {
    // Appends already asked for are committed (or refused), never dropped.
    if (this.queue.length > 0) this.track(this.flush());
    await Promise.allSettled([...this.inFlight]);
    await this.listener.close();
    await this.pool.end();
  }
}
