import type Database from 'better-sqlite3';
import { openSqliteFile } from '../sqlite/open-sqlite-file.js';
import type { SecretKind, SecretRows } from './secret-store.js';

/** The secret store's rows in one SQLite file, readable by its owner only (the embedded default). */
export class SqliteSecretRows implements SecretRows {
  private readonly db: Database.Database;
  private readonly select;
  private readonly upsert;
  private readonly insertIfAbsent;
  private readonly remove;
  private readonly list;

  constructor(file: string) {
    this.db = openSqliteFile(file, { directoryMode: 0o700, fileMode: 0o600 });
    this.db.exec('CREATE TABLE IF NOT EXISTS secrets (kind TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, name))');
    this.select = this.db.prepare<[SecretKind, string], { value: string }>('SELECT value FROM secrets WHERE kind = ? AND name = ?');
    this.upsert = this.db.prepare<[SecretKind, string, string]>(
      'INSERT INTO secrets (kind, name, value) VALUES (?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value',
    );
    this.insertIfAbsent = this.db.prepare<[SecretKind, string, string]>('INSERT OR IGNORE INTO secrets (kind, name, value) VALUES (?, ?, ?)');
    this.remove = this.db.prepare<[SecretKind, string]>('DELETE FROM secrets WHERE kind = ? AND name = ?');
    this.list = this.db.prepare<[SecretKind], { name: string }>('SELECT name FROM secrets WHERE kind = ? ORDER BY name');
  }

  async get(kind: SecretKind, name: string): Promise<string | undefined> {
    return this.select.get(kind, name)?.value;
  }

  async put(kind: SecretKind, name: string, value: string): Promise<void> {
    this.upsert.run(kind, name, value);
  }

  async putIfAbsent(kind: SecretKind, name: string, value: string): Promise<void> {
    this.insertIfAbsent.run(kind, name, value);
  }

  async delete(kind: SecretKind, name: string): Promise<void> {
    this.remove.run(kind, name);
  }

  async names(kind: SecretKind): Promise<string[]> {
    return this.list.all(kind).map((row) => row.name);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
