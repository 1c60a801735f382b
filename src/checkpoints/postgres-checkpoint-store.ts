import type { PostgresConnection } from '../shared-state/postgres-connection.js';
import type { CheckpointStore } from './checkpoint-store.js';

/**
 * The relay's checkpoint in PostgreSQL, shared by the instances on every host. It only
 * moves forward: a relay that lost its lease and finishes a batch late cannot take the
 * checkpoint back behind its successor's.
 */
export class PostgresCheckpointStore implements CheckpointStore {
  constructor(private readonly db: PostgresConnection) {}

  async get(name: string): Promise<number> {
    const rows = await this.db.query<{ position: string }>('SELECT position FROM checkpoints WHERE name = $1', [name]);
    return rows[0] ? Number(rows[0].position) : 0;
  }

  async set(name: string, position: number): Promise<void> {
    await this.db.query(
      'INSERT INTO checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE checkpoints.position < excluded.position',
      [name, position],
    );
  }

  async close(): Promise<void> {}
}
