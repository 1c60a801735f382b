import type Database from 'better-sqlite3';
import { openSqliteFile } from '../sqlite/open-sqlite-file.js';
import type { CheckpointStore } from './checkpoint-store.js';

/** Checkpoints in a SQLite file of their own, so they outlive the process whatever the event store is. */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly db: Database.Database;
  private readonly select;
  private readonly upsert;

  constructor(file: string) {
    this.db = openSqliteFile(file);
    this.db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL)');
    this.select = this.db.prepare<[string], { position: number }>('SELECT position FROM checkpoints WHERE name = ?');
    this.upsert = this.db.prepare<[string, number]>(
      // Only forward: a relay that lost its lease and finishes late cannot take it back behind its successor's.
      'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE checkpoints.position < excluded.position',
    );
  }

  async get(name: string): Promise<number> {
    return this.select.get(name)?.position ?? 0;
  }

  async set(name: string, position: number): Promise<void> {
    this.upsert.run(name, position);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
