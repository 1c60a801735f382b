import type Database from 'better-sqlite3';
import { openSqliteFile } from '../sqlite/open-sqlite-file.js';

const PRUNE_EVERY = 256;

/**
 * Times something happened, by key, within a sliding window, shared by every instance on
 * this data directory (one SQLite file, like the relay's lease): counted wherever they
 * happened, so more instances give nobody more room. Operational state, not a record:
 * what it counts is on record as events already, and rows older than the window are
 * dropped. Opened at first use: the command line never needs it.
 *
 * Used for failed sign-ins by address (an older file's `address_failures` table, of the
 * same rows under another name, is left to itself).
 */
export class SlidingWindow {
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
    private readonly table: 'sign_in_failures_by_address',
    readonly windowMs: number,
  ) {}

  private open() {
    if (this.statements) return this.statements;
    const db = openSqliteFile(this.file);
    // Operational state: losing the last few rows to a power cut costs an attacker's count a
    // moment; syncing the disk at every row would cost every failed sign-in a disk flush.
    db.pragma('synchronous = NORMAL');
    db.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (key TEXT NOT NULL, at INTEGER NOT NULL);
             CREATE INDEX IF NOT EXISTS ${this.table}_by_key ON ${this.table} (key, at);`);
    this.statements = {
      db,
      insert: db.prepare(`INSERT INTO ${this.table} (key, at) VALUES (?, ?)`),
      since: db.prepare(`SELECT at FROM ${this.table} WHERE key = ? AND at > ? ORDER BY at`),
      // Walks the index from the newest back, `limit` rows at most: no row list per check.
      nthNewest: db.prepare(`SELECT at FROM ${this.table} WHERE key = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?`),
      prune: db.prepare(`DELETE FROM ${this.table} WHERE at <= ?`),
    };
    return this.statements;
  }

  record(key: string, now: number): void {
    const { insert, prune } = this.open();
    insert.run(key, now);
    if (++this.recorded % PRUNE_EVERY === 0) prune.run(now - this.windowMs);
  }

  /** Times (ms) of this key's records within the window, oldest first. */
  within(key: string, now: number): number[] {
    return this.open().since.all(key, now - this.windowMs).map((row) => row.at);
  }

  /** Seconds until fewer than `limit` of this key's records are within the window (0: there are fewer now). */
  retryAfter(key: string, limit: number, now: number): number {
    const row = this.open().nthNewest.get(key, now - this.windowMs, limit - 1);
    return row ? Math.ceil((row.at + this.windowMs - now) / 1000) : 0;
  }

  close(): void {
    this.statements?.db.close();
    this.statements = undefined;
  }
}
