import type { PostgresConnection } from '../shared-state/postgres-connection.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';

/** Snapshots in PostgreSQL, used by every instance: as on SQLite the last one written wins, and any may be lost. */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(private readonly db: PostgresConnection) {}

  async get(stream: string): Promise<Snapshot | undefined> {
    const [row] = await this.db.query<{ kind: string; revision: number; event_id: string; state: string }>(
      'SELECT kind, revision, event_id, state FROM snapshots WHERE stream = $1',
      [stream],
    );
    return row && { stream, kind: row.kind, revision: row.revision, eventId: row.event_id, state: JSON.parse(row.state) as unknown };
  }

  async put(snapshot: Snapshot): Promise<void> {
    await this.db.query(
      `INSERT INTO snapshots (stream, kind, revision, event_id, state) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (stream) DO UPDATE SET kind = excluded.kind, revision = excluded.revision, event_id = excluded.event_id, state = excluded.state`,
      [snapshot.stream, snapshot.kind, snapshot.revision, snapshot.eventId, JSON.stringify(snapshot.state)],
    );
  }

  async close(): Promise<void> {}
}
