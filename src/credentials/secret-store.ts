import { randomToken } from '../domain/crypto.js';
import type Database from 'better-sqlite3';
import { openSqliteFile } from '../sqlite/open-sqlite-file.js';

type Kind = 'password' | 'client_secret' | 'signing_key' | 'server_secret' | 'audit_key' | 'initial_access_token' | 'registration_access_token';

/**
 * What must never enter an event: password hashes, client secret hashes, private
 * signing keys and the server's own keys. One SQLite file, readable by its owner only.
 */
export class SecretStore {
  private readonly db: Database.Database;
  private readonly select;
  private readonly upsert;
  private readonly insertIfAbsent;
  private readonly remove;

  constructor(file: string) {
    this.db = openSqliteFile(file, { directoryMode: 0o700, fileMode: 0o600 });
    this.db.exec('CREATE TABLE IF NOT EXISTS secrets (kind TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, name))');
    this.select = this.db.prepare<[Kind, string], { value: string }>('SELECT value FROM secrets WHERE kind = ? AND name = ?');
    this.upsert = this.db.prepare<[Kind, string, string]>(
      'INSERT INTO secrets (kind, name, value) VALUES (?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value',
    );
    this.insertIfAbsent = this.db.prepare<[Kind, string, string]>('INSERT OR IGNORE INTO secrets (kind, name, value) VALUES (?, ?, ?)');
    this.remove = this.db.prepare<[Kind, string]>('DELETE FROM secrets WHERE kind = ? AND name = ?');
  }

  get(kind: Kind, name: string): string | undefined {
    return this.select.get(kind, name)?.value;
  }

  put(kind: Kind, name: string, value: string): void {
    this.upsert.run(kind, name, value);
  }

  delete(kind: Kind, name: string): void {
    this.remove.run(kind, name);
  }

  /** A random key of the server's own (CSRF tokens, ...), made on first use and kept. */
  serverKey(name: string): Buffer {
    this.insertIfAbsent.run('server_secret', name, randomToken(32));
    return Buffer.from(this.get('server_secret', name)!, 'base64url');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
