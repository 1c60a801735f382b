import type Database from 'better-sqlite3';
import { openSqliteFile } from '../sqlite/open-sqlite-file.js';

const PRUNE_EVERY = 256;

/** The counters kept by address, each in a table of its own. */
export type AddressCounter = 'address_failures' | 'address_registrations' | 'address_user_code_failures' | 'address_device_requests';

/** Events by client address within a sliding window, counted where every instance sees them. */
export interface AddressFailures {
  record(address: string, now: number): Promise<void>;
  /** Times (ms) of this address's events within the window, oldest first. */
  within(address: string, now: number): Promise<number[]>;
  /** Seconds until this address has fewer than `limit` events within the window (0: it has fewer now). */
  retryAfter(address: string, limit: number, now: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Failed sign-ins by client address within the window, shared by every instance on this
 * data directory (one SQLite file, like the relay's lease): failures count wherever they
 * were made, so more instances give an address no more guesses. Operational state, not a
 * record: each failure is on record as a LoginFailed event already, and rows older than
 * the window are dropped. Opened at the first sign-in: the command line never needs it.
 * The same sliding window, in a table of its own, counts open client registrations by
 * address (src/gateway/client-registration.ts): each is on record as a ClientRegistered event, without it.
 * And, each in its own table, wrong device user codes and device authorization requests
 * (src/credentials/device-limits.ts).
 */
export class SqliteAddressFailures implements AddressFailures {
  private statements:
    | {
        db: Database.Database;
        insert: Database.Statement<[string, number]>;
        since: Database.Statement<[string, number], { at: number }>;
        nthNewest: Database.Statement<[string, number, number], { at: number }>;
        prune: Database.Statement<[number]>;
      }
    | undefined;
  private recorded = 0;

  constructor(
    private readonly file: string,
    private readonly windowMs: number,
    private readonly table: AddressCounter = 'address_failures',
  ) {}

  private open() {
    if (this.statements) return this.statements;
    const db = openSqliteFile(this.file);
    const table = this.table;
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (address TEXT NOT NULL, at INTEGER NOT NULL);
             CREATE INDEX IF NOT EXISTS ${table}_by_address ON ${table} (address, at);`);
    this.statements = {
      db,
      insert: db.prepare(`INSERT INTO ${table} (address, at) VALUES (?, ?)`),
      since: db.prepare(`SELECT at FROM ${table} WHERE address = ? AND at > ? ORDER BY at`),
      // Walks the index from the newest back, `limit` rows at most: no row list per check.
      nthNewest: db.prepare(`SELECT at FROM ${table} WHERE address = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?`),
      prune: db.prepare(`DELETE FROM ${table} WHERE at <= ?`),
    };
    return this.statements;
  }

  async record(address: string, now: number): Promise<void> {
    const { insert, prune } = this.open();
    insert.run(address, now);
    if (++this.recorded % PRUNE_EVERY === 0) prune.run(now - this.windowMs);
  }

  async within(address: string, now: number): Promise<number[]> {
    return this.open().since.all(address, now - this.windowMs).map((row) => row.at);
  }

  async retryAfter(address: string, limit: number, now: number): Promise<number> {
    const row = this.open().nthNewest.get(address, now - this.windowMs, limit - 1);
    return row ? Math.ceil((row.at + this.windowMs - now) / 1000) : 0;
  }

  async close(): Promise<void> {
    this.statements?.db.close();
    this.statements = undefined;
  }
}
