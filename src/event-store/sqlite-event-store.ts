import { EventEmitter } from 'node:events';
import type Database from 'better-sqlite3';
import { openSqliteFile } from '../sqlite/open-sqlite-file.js';
import type { NewEvent, RecordedEvent } from './event-envelope.js';
import {
  AppendTooLargeError,
  checkAppendSize,
  checkExpectedRevision,
  WrongExpectedVersionError,
  type AppendResult,
  type BatchHandler,
  type EventStore,
  type ExpectedRevision,
  type Subscription,
} from './event-store.js';
import { followLog, type FollowOptions } from './follow-log.js';
import { canonicalJson, chainHash } from './tamper-evidence.js';
import { startWalCheckpointer } from './wal-checkpointer.js';

interface Row {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  schema_version: number;
  time: string;
  correlation_id: string;
  causation_id: string | null;
  data: string;
  hash: string;
}

export interface SqliteEventStoreOptions extends FollowOptions {
  /** How many of this process's newest appends to keep for followers (default 1024; 0: none). */
  tailSize?: number;
  /**
   * `normal` (default): WAL with synchronous=NORMAL, durable across a process crash,
   * the last transactions may be lost on power loss. `full`: fsync on every commit.
   */
  synchronous?: 'normal' | 'full';
}

const fromRow = (row: Row): RecordedEvent => ({
  id: row.id,
  type: row.type,
  stream: row.stream,
  revision: row.revision,
  position: row.position,
  schemaVersion: row.schema_version,
  time: row.time,
  correlationId: row.correlation_id,
  causationId: row.causation_id,
  data: JSON.parse(row.data) as Record<string, unknown>,
  hash: row.hash,
});

interface PendingAppend {
  stream: string;
  events: NewEvent[];
  expected: ExpectedRevision;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

interface Appended {
  result: AppendResult;
  recorded: RecordedEvent[];
}

type Outcome = Appended | { error: unknown };

/**
 * The embedded default: one SQLite file in WAL mode. The rowid is the global position.
 *
 * Under load, appends made in the same turn of the event loop are committed together
 * (group commit): each keeps its own revision check, so one lost race fails only its
 * own append, and each promise resolves only once the commit holding it is done. Followers in this process are served the newest appends from memory
 * instead of reading back and parsing what was just written.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private queue: PendingAppend[] = [];
  private readonly tail: RecordedEvent[] = [];
  private readonly tailSize: number;
  private readonly appended = new EventEmitter().setMaxListeners(0);
  private readonly checkpointer: { stop(): Promise<void> } | undefined;
  private readonly statements;
  private readonly commitGroup: (group: PendingAppend[]) => Outcome[];
  private readonly commitOne: (append: PendingAppend) => Appended;

  constructor(readonly file: string, private readonly options: SqliteEventStoreOptions = {}) {
    this.db = openSqliteFile(file);
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Automatic WAL checkpoints stall the append that triggers them; checkpoint off the hot path instead.
    this.db.pragma('wal_autocheckpoint = 0');
    this.checkpointer = file === ':memory:' ? undefined : startWalCheckpointer(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        stream TEXT NOT NULL,
        revision INTEGER NOT NULL,
        type TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        time TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        causation_id TEXT,
        data TEXT NOT NULL,
        hash TEXT NOT NULL DEFAULT '',
        UNIQUE (stream, revision)
      );
    `);
    // Files written before events were hash-chained get the column; their old events verify as unchained.
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(events)').all().map((c) => c.name);
    if (!columns.includes('hash')) this.db.exec("ALTER TABLE events ADD COLUMN hash TEXT NOT NULL DEFAULT ''");
    this.statements = {
      revision: this.db.prepare<[string], { revision: number; hash: string }>(
        'SELECT revision, hash FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
      ),
      insert: this.db.prepare(
        `INSERT INTO events (id, stream, revision, type, schema_version, time, correlation_id, causation_id, data, hash)
         VALUES (@id, @stream, @revision, @type, @schemaVersion, @time, @correlationId, @causationId, @data, @hash)`,
      ),
      readStream: this.db.prepare<[string, number], Row>('SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision'),
      readAll: this.db.prepare<[number, number], Row>('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      head: this.db.prepare<[], { head: number | null }>('SELECT max(position) AS head FROM events'),
    };
    this.tailSize = options.tailSize ?? 1024;
    // The revision check comes before any insert, so a refused append has written nothing.
    const appendOne = ({ stream, events, expected }: PendingAppend): Appended => {
      const last = this.statements.revision.get(stream);
      const current = last?.revision;
      checkExpectedRevision(stream, expected, current);
      // Stored as canonical JSON: the same text the chain hash covers, serialised once.
      const datas = events.map((event) => canonicalJson(event.data));
      checkAppendSize(stream, events, datas);
      let revision = current ?? -1;
      let previousHash = last?.hash ?? null;
      let position = 0;
      const recorded: RecordedEvent[] = [];
      for (const [i, event] of events.entries()) {
        revision += 1;
        const data = datas[i];
        previousHash = chainHash(previousHash, { ...event, stream, revision }, data);
        const info = this.statements.insert.run({
          id: event.id,
          stream,
          revision,
          type: event.type,
          schemaVersion: event.schemaVersion,
          time: event.time,
          correlationId: event.correlationId,
          causationId: event.causationId,
          data,
          hash: previousHash,
        });
        position = Number(info.lastInsertRowid);
        // What a reader would get back from the file: the data as JSON gives it, not the caller's object.
        recorded.push({ ...event, data: JSON.parse(data) as Record<string, unknown>, stream, revision, position, hash: previousHash });
      }
      return { result: { revision, position }, recorded };
    };
    const group = this.db.transaction((pending: PendingAppend[]): Outcome[] =>
      pending.map((append) => {
        try {
          return appendOne(append);
        } catch (error) {
          // A lost race or an oversized append (both refused before any insert) is that append's own outcome; anything else undoes the whole group.
          if (error instanceof WrongExpectedVersionError || error instanceof AppendTooLargeError) return { error };
          throw error;
        }
      }),
    );
    // IMMEDIATE takes the write lock before reading the revision, so writers in other processes serialise too.
    this.commitGroup = group.immediate;
    this.commitOne = this.db.transaction(appendOne).immediate;
  }

  append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ stream, events, expected, resolve, reject });
      // The first append of this turn schedules the commit; the others of the turn join it.
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const pending = this.queue;
    this.queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.commitGroup(pending);
    } catch {
      // Nothing of the group is recorded. Commit each on its own, so that what broke the
      // group (a constraint, a locked or full file) fails only the appends it concerns.
      outcomes = pending.map((append) => {
        try {
          return this.commitOne(append);
        } catch (error) {
          return { error };
        }
      });
    }
    let appended = false;
    outcomes.forEach((outcome, i) => {
      const append = pending[i];
      if ('error' in outcome) return append.reject(this.refusal(append, outcome.error));
      for (const event of outcome.recorded) this.remember(event);
      appended ||= outcome.recorded.length > 0;
      append.resolve(outcome.result);
    });
    if (appended) this.appended.emit('append');
  }

  private refusal({ stream, expected }: PendingAppend, error: unknown): unknown {
    // The UNIQUE (stream, revision) constraint is the last line against a racing writer.
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && String(error).includes('revision')) {
      return new WrongExpectedVersionError(stream, expected, this.statements.revision.get(stream)?.revision ?? 'no_stream');
    }
    return error;
  }

  private remember(event: RecordedEvent): void {
    if (this.tailSize === 0) return;
    this.tail.push(event);
    if (this.tail.length > this.tailSize * 2) this.tail.splice(0, this.tail.length - this.tailSize);
  }

  /**
   * The events after `after` from memory, if this process wrote all of them in a row;
   * undefined when the file must be read (older events, or another process wrote in between).
   */
  private fromTail(after: number, limit: number): RecordedEvent[] | undefined {
    const tail = this.tail;
    if (tail.length === 0 || after + 1 < tail[0].position || after >= tail[tail.length - 1].position) return undefined;
    let low = 0;
    let high = tail.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (tail[middle].position <= after) low = middle + 1;
      else high = middle;
    }
    if (tail[low].position !== after + 1) return undefined;
    let end = low + 1;
    while (end < tail.length && end - low < limit && tail[end].position === tail[end - 1].position + 1) end++;
    // Stopping at a gap would look like the end of the log to a follower: read the file instead.
    if (end - low < limit && end < tail.length) return undefined;
    return tail.slice(low, end);
  }

  async readStream(stream: string, fromRevision = 0): Promise<RecordedEvent[]> {
    return this.statements.readStream.all(stream, fromRevision).map(fromRow);
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    return this.fromTail(after, limit) ?? this.statements.readAll.all(after, limit).map(fromRow);
  }

  async headPosition(): Promise<number> {
    return this.statements.head.get()?.head ?? 0;
  }

  /** Positions are dense here (rowids 1, 2, 3...): a difference of positions is a count. */
  async countAfter(position: number, _atMost?: number): Promise<number> {
    return Math.max(0, (await this.headPosition()) - position);
  }

  /** AUTOINCREMENT keeps the highest rowid ever used in sqlite_sequence; a rolled-back append gives its numbers back. */
  async highestPositionAssigned(): Promise<number> {
    return this.db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get()?.seq ?? 0;
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    return followLog((a, l) => this.readAll(a, l), after, handler, this.appended, this.options);
  }

  /** Takes the write lock and lets it go: proves the file is writable and not locked out. */
  async checkWritable(): Promise<void> {
    this.db.exec('BEGIN IMMEDIATE; ROLLBACK');
  }

  async close(): Promise<void> {
    // Appends already asked for are committed (or refused), never dropped.
    if (this.queue.length > 0) this.flush();
    await this.checkpointer?.stop();
    if (this.db.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}
