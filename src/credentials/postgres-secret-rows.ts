import type { PostgresConnection } from '../shared-state/postgres-connection.js';
import type { SecretKind, SecretRows } from './secret-store.js';

/**
 * The secret store's rows in PostgreSQL, read at each use: a client secret rotated on one
 * instance is refused by every other at its next request, no cache to wait out.
 */
export class PostgresSecretRows implements SecretRows {
  constructor(private readonly db: PostgresConnection) {}

  async get(kind: SecretKind, name: string): Promise<string | undefined> {
    return (await this.db.query<{ value: string }>('SELECT value FROM secrets WHERE kind = $1 AND name = $2', [kind, name]))[0]?.value;
  }

  async put(kind: SecretKind, name: string, value: string): Promise<void> {
    await this.db.query('INSERT INTO secrets (kind, name, value) VALUES ($1, $2, $3) ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value', [kind, name, value]);
  }

  async putIfAbsent(kind: SecretKind, name: string, value: string): Promise<void> {
    await this.db.query('INSERT INTO secrets (kind, name, value) VALUES ($1, $2, $3) ON CONFLICT (kind, name) DO NOTHING', [kind, name, value]);
  }

  async delete(kind: SecretKind, name: string): Promise<void> {
    await this.db.query('DELETE FROM secrets WHERE kind = $1 AND name = $2', [kind, name]);
  }

  async names(kind: SecretKind): Promise<string[]> {
    return (await this.db.query<{ name: string }>('SELECT name FROM secrets WHERE kind = $1 ORDER BY name', [kind])).map((row) => row.name);
  }

  async close(): Promise<void> {}
}
