import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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

/** The embedded default: one SQLite file in WAL mode. The rowid is the global position. */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly appended = new EventEmitter().setMaxListeners(0);
  private readonly checkpointer: { stop(): Promise<void> } | undefined;
  private readonly statements;
  private readonly appendTx: (stream: string, events: NewEvent[], expected: ExpectedRevision) => AppendResult;

  constructor(readonly file: string, private readonly options: SqliteEventStoreOptions = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
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
      readStream: this.db.prepare<[string], Row>('SELECT * FROM events WHERE stream = ? ORDER BY revision'),
      readAll: this.db.prepare<[number, number], Row>('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      head: this.db.prepare<[], { head: number | null }>('SELECT max(position) AS head FROM events'),
    };
    const tx = this.db.transaction((stream: string, events: NewEvent[], expected: ExpectedRevision): AppendResult => {
      const last = this.statements.revision.get(stream);
      const current = last?.revision;
      checkExpectedRevision(stream, expected, current);
      let revision = current ?? -1;
      let previousHash = last?.hash ?? null;
      let position = 0;
      for (const event of events) {
        revision += 1;
        previousHash = chainHash(previousHash, { ...event, stream, revision });
        const info = this.statements.insert.run({
          id: event.id,
          stream,
          revision,
          type: event.type,
          schemaVersion: event.schemaVersion,
          time: event.time,
          correlationId: event.correlationId,
          causationId: event.causationId,
          data: JSON.stringify(event.data),
          hash: previousHash,
        });
        position = Number(info.lastInsertRowid);
      }
      return { revision, position };
    });
    // IMMEDIATE takes the write lock before reading the revision, so writers in other processes serialise too.
    this.appendTx = tx.immediate;
  }

  async append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    let result: AppendResult;
    try {
      result = this.appendTx(stream, events, expected);
    } catch (error) {
      // The UNIQUE (stream, revision) constraint is the last line against a racing writer.
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && String(error).includes('revision')) {
        throw new WrongExpectedVersionError(stream, expected, this.statements.revision.get(stream)?.revision ?? 'no_stream');
      }
      throw error;
    }
    if (events.length > 0) this.appended.emit('append');
    return result;
  }

  async readStream(stream: string): Promise<RecordedEvent[]> {
    return this.statements.readStream.all(stream).map(fromRow);
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    return this.statements.readAll.all(after, limit).map(fromRow);
  }

  async headPosition(): Promise<number> {
    return this.statements.head.get()?.head ?? 0;
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    return followLog((a, l) => this.readAll(a, l), after, handler, this.appended, this.options);
  }

  /** Takes the write lock and lets it go: proves the file is writable and not locked out. */
  async checkWritable(): Promise<void> {
    this.db.exec('BEGIN IMMEDIATE; ROLLBACK');
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    if (this.db.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}
