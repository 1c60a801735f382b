import type { PostgresConnection } from '../shared-state/postgres-connection.js';
import type { Lease } from './lease.js';

/**
 * A lease in PostgreSQL, for instances on several hosts. Expiry is reckoned on the
 * database's clock, never the instances' own, so hosts whose clocks disagree still agree
 * on who holds it. `epoch` counts the hands it has passed through (a fencing token).
 */
export class PostgresLease implements Lease {
  private held = false;
  epoch = 0;

  constructor(
    private readonly db: PostgresConnection,
    readonly name: string,
    readonly holder: string,
    readonly ttlMs: number,
  ) {}

  async tryAcquire(): Promise<boolean> {
    try {
      const rows = await this.db.query<{ holder: string; epoch: string }>(
        `INSERT INTO leases (name, holder, expires_at, epoch) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond', 1)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
           epoch = leases.epoch + CASE WHEN leases.holder = excluded.holder THEN 0 ELSE 1 END
         WHERE leases.holder = excluded.holder OR leases.expires_at < clock_timestamp()
         RETURNING holder, epoch`,
        [this.name, this.holder, this.ttlMs],
      );
      this.held = rows.length === 1;
      if (this.held) this.epoch = Number(rows[0].epoch);
    } catch {
      // PostgreSQL away: this holder cannot renew, so it must act as if it had lost the lease.
      this.held = false;
    }
    return this.held;
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await this.db.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [this.name, this.holder]).catch(() => undefined);
  }
}
