import pg from 'pg';
import { inTransaction } from '../event-store/postgres-transaction.js';
import { reachingStore } from '../event-store/store-unavailable.js';
import type { Logger } from '../observability/logger.js';

/** The shared state's tables, beside the record's when the record is PostgreSQL too (docs/shared-state.md). */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS secrets (kind TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL, epoch BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS address_counts (counter TEXT NOT NULL, address TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS address_counts_by_address ON address_counts (counter, address, at);
CREATE TABLE IF NOT EXISTS snapshots (stream TEXT PRIMARY KEY, kind TEXT NOT NULL, revision INTEGER NOT NULL, event_id TEXT NOT NULL, state TEXT NOT NULL);
`;
const TABLES = ['secrets', 'leases', 'checkpoints', 'address_counts', 'snapshots'];
const STORE = 'PostgreSQL (shared state)';
/** Not the record's lock (postgres-schema.ts): the two schemas may be made at once. */
const SCHEMA_LOCK = 'SELECT pg_advisory_xact_lock(7413002912)';

/**
 * One pool for the shared state of a process. A query waits at most a few seconds for a
 * connection or an answer: with PostgreSQL away a request fails (503) rather than hangs.
 */
export class PostgresConnection {
  private readonly pool: pg.Pool;
  private schema: Promise<void> | undefined;

  constructor(connectionString: string, log?: Pick<Logger, 'error'>, poolSize = 5) {
    // As the record's pool (postgres-event-store.ts): a request fails within about five seconds, and keepalives find a vanished peer.
    this.pool = new pg.Pool({ connectionString, max: poolSize, connectionTimeoutMillis: 3000, keepAlive: true, keepAliveInitialDelayMillis: 10_000, statement_timeout: 4000, query_timeout: 5000 });
    this.pool.on('error', (error) => log?.error('a PostgreSQL connection of the shared state was lost', { error: error.message }));
  }

  /** Makes the tables on first use under an advisory lock (instances start together), and again after a failure. */
  private ready(): Promise<void> {
    this.schema ??= this.transaction(async (client) => {
      const { rows } = await client.query<{ made: boolean }>(`SELECT ${TABLES.map((t) => `to_regclass('${t}') IS NOT NULL`).join(' AND ')} AS made`);
      if (rows[0].made) return;
      await client.query(SCHEMA_LOCK);
      await client.query(SCHEMA);
    }, false).catch((error: unknown) => {
      this.schema = undefined;
      throw error;
    });
    return this.schema;
  }

  async query<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]> {
    return reachingStore(STORE, async () => {
      await this.ready();
      return (await this.pool.query<R>(sql, values)).rows;
    });
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>, waitForSchema = true): Promise<T> {
    if (waitForSchema) await this.ready();
    return inTransaction(this.pool, STORE, work);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
