import type Database from 'better-sqlite3';
import { openSqliteFile } from '../src/sqlite/open-sqlite-file.js';
import type { ProjectionStore } from './projection-store.js';

/**
 * Projections in a SQLite file: for a process fed by a durable JetStream consumer, whose
 * read models must outlive it just as the consumer's position does.
 */
export class SqliteProjectionStore implements ProjectionStore {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly applyTx: (projection: string, changes: ReadonlyMap<string, unknown>, position: number) => void;
  private readonly resetTx: (projection: string, version: number) => void;

  constructor(file: string) {
    this.db = openSqliteFile(file);
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS documents (projection TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (projection, key));
      CREATE TABLE IF NOT EXISTS projection_checkpoints (projection TEXT PRIMARY KEY, position INTEGER NOT NULL, version INTEGER NOT NULL DEFAULT 1);
    `);
    // Files from before folds had versions hold the first fold of each projection.
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(projection_checkpoints)').all().map((c) => c.name);
    if (!columns.includes('version')) this.db.exec('ALTER TABLE projection_checkpoints ADD COLUMN version INTEGER NOT NULL DEFAULT 1');
    this.statements = {
      get: this.db.prepare<[string, string], { value: string }>('SELECT value FROM documents WHERE projection = ? AND key = ?'),
      put: this.db.prepare<[string, string, string]>(
        'INSERT INTO documents (projection, key, value) VALUES (?, ?, ?) ON CONFLICT (projection, key) DO UPDATE SET value = excluded.value',
      ),
      delete: this.db.prepare<[string, string]>('DELETE FROM documents WHERE projection = ? AND key = ?'),
      checkpoint: this.db.prepare<[string], { position: number; version: number }>('SELECT position, version FROM projection_checkpoints WHERE projection = ?'),
      deleteAll: this.db.prepare<[string]>('DELETE FROM documents WHERE projection = ?'),
      restart: this.db.prepare<[string, number]>(
        'INSERT INTO projection_checkpoints (projection, position, version) VALUES (?, 0, ?) ON CONFLICT (projection) DO UPDATE SET position = 0, version = excluded.version',
      ),
      setCheckpoint: this.db.prepare<[string, number]>(
        'INSERT INTO projection_checkpoints (projection, position) VALUES (?, ?) ON CONFLICT (projection) DO UPDATE SET position = excluded.position',
      ),
      entries: this.db.prepare<[string], { key: string; value: string }>('SELECT key, value FROM documents WHERE projection = ? ORDER BY key'),
      // '0' is the character after '/': the range holds exactly the keys that start with `<group>/`.
      entriesIn: this.db.prepare<[string, string, string], { key: string; value: string }>(
        'SELECT key, value FROM documents WHERE projection = ? AND key >= ? AND key < ? ORDER BY key',
      ),
    };
    this.applyTx = this.db.transaction((projection: string, changes: ReadonlyMap<string, unknown>, position: number) => {
      for (const [key, value] of changes) {
        if (value === undefined) this.statements.delete.run(projection, key);
        else this.statements.put.run(projection, key, JSON.stringify(value));
      }
      this.statements.setCheckpoint.run(projection, position);
    });
    this.resetTx = this.db.transaction((projection: string, version: number) => {
      this.statements.deleteAll.run(projection);
      this.statements.restart.run(projection, version);
    });
  }

  get<V>(projection: string, key: string): V | undefined {
    const row = this.statements.get.get(projection, key);
    return row ? (JSON.parse(row.value) as V) : undefined;
  }

  checkpoint(projection: string): number {
    return this.statements.checkpoint.get(projection)?.position ?? 0;
  }

  apply(projection: string, changes: ReadonlyMap<string, unknown>, position: number): void {
    this.applyTx(projection, changes, position);
  }

  entries(projection: string): Array<[string, unknown]> {
    return this.statements.entries.all(projection).map(({ key, value }) => [key, JSON.parse(value)]);
  }

  entriesIn(projection: string, group: string): Array<[string, unknown]> {
    return this.statements.entriesIn.all(projection, `${group}/`, `${group}0`).map(({ key, value }) => [key, JSON.parse(value)]);
  }

  foldVersion(projection: string): number | undefined {
    return this.statements.checkpoint.get(projection)?.version;
  }

  reset(projection: string, version: number): void {
    this.resetTx(projection, version);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
