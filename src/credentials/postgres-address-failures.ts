import type { PostgresConnection } from '../shared-state/postgres-connection.js';
import type { AddressCounter, AddressFailures } from './address-failures.js';

const PRUNE_EVERY = 256;

/** The sliding windows of address-failures.ts in PostgreSQL: an address gets no more tries for there being more hosts. */
export class PostgresAddressFailures implements AddressFailures {
  private recorded = 0;

  constructor(
    private readonly db: PostgresConnection,
    private readonly windowMs: number,
    private readonly counter: AddressCounter = 'address_failures',
  ) {}

  async record(address: string, now: number): Promise<void> {
    await this.db.query('INSERT INTO address_counts (counter, address, at) VALUES ($1, $2, $3)', [this.counter, address, now]);
    if (++this.recorded % PRUNE_EVERY === 0) {
      await this.db.query('DELETE FROM address_counts WHERE counter = $1 AND at <= $2', [this.counter, now - this.windowMs]).catch(() => undefined);
    }
  }

  async within(address: string, now: number): Promise<number[]> {
    const rows = await this.db.query<{ at: string }>('SELECT at FROM address_counts WHERE counter = $1 AND address = $2 AND at > $3 ORDER BY at', [this.counter, address, now - this.windowMs]);
    return rows.map((row) => Number(row.at));
  }

  async retryAfter(address: string, limit: number, now: number): Promise<number> {
    const [row] = await this.db.query<{ at: string }>(
      'SELECT at FROM address_counts WHERE counter = $1 AND address = $2 AND at > $3 ORDER BY at DESC LIMIT 1 OFFSET $4',
      [this.counter, address, now - this.windowMs, limit - 1],
    );
    return row ? Math.ceil((Number(row.at) + this.windowMs - now) / 1000) : 0;
  }

  async close(): Promise<void> {}
}
