import type Database from 'better-sqlite3';
import { openSqliteFile } from '../sqlite/open-sqlite-file.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';

interface Row {
  kind: string;
  revision: number;
  event_id: string;
  state: string;
}

/**
 * Snapshots in a SQLite file of their own in the data directory, whatever the event store
 * is. The last one written wins: an older one is still right (it names its event), and a
 * newer one that no longer matches the store must give way.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  private readonly db: Database.Database;
  private readonly select;
  private readonly upsert;

  constructor(file: string) {
    this.db = openSqliteFile(file);
    // A cache: a commit need not reach the disk before the command goes on (WAL keeps the file sound).
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS snapshots (stream TEXT PRIMARY KEY, kind TEXT NOT NULL, revision INTEGER NOT NULL, event_id TEXT NOT NULL, state TEXT NOT NULL)');
    this.select = this.db.prepare<[string], Row>('SELECT kind, revision, event_id, state FROM snapshots WHERE stream = ?');
    this.upsert = this.db.prepare<[string, string, number, string, string]>(
      `INSERT INTO snapshots (stream, kind, revision, event_id, state) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (stream) DO UPDATE SET kind = excluded.kind, revision = excluded.revision, event_id = excluded.event_id, state = excluded.state`,
    );
  }

  async get(stream: string): Promise<Snapshot | undefined> {
    const row = this.select.get(stream);
    return row && { stream, kind: row.kind, revision: row.revision, eventId: row.event_id, state: JSON.parse(row.state) as unknown };
  }

  async put(snapshot: Snapshot): Promise<void> {
    this.upsert.run(snapshot.stream, snapshot.kind, snapshot.revision, snapshot.eventId, JSON.stringify(snapshot.state));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
