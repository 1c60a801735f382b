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
 * Used for failed sign-ins by address, and for authorizations recorded per user and per
 * client; each use has a table of its own in the one file (an older file's
 * `address_failures` table, of the same rows under another name, is left to itself).
 */
export class SlidingWindow {
  private statements:
    | { db: Database.Database; insert: Database.Statement<[string, number]>; since: Database.Statement<[string, number], { at: number }>; prune: Database.Statement<[number]> }
    | undefined;
  private recorded = 0;

  constructor(
    private readonly file: string,
    private readonly table: 'sign_in_failures_by_address' | 'authorizations',
    readonly windowMs: number,
  ) {}

  private open() {
    if (this.statements) return this.statements;
    const db = openSqliteFile(this.file);
    db.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (key TEXT NOT NULL, at INTEGER NOT NULL);
             CREATE INDEX IF NOT EXISTS ${this.table}_by_key ON ${this.table} (key, at);`);
    this.statements = {
      db,
      insert: db.prepare(`INSERT INTO ${this.table} (key, at) VALUES (?, ?)`),
      since: db.prepare(`SELECT at FROM ${this.table} WHERE key = ? AND at > ? ORDER BY at`),
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
    const times = this.within(key, now);
    if (times.length < limit) return 0;
    return Math.ceil((times[times.length - limit] + this.windowMs - now) / 1000);
  }

  close(): void {
    this.statements?.db.close();
    this.statements = undefined;
  }
}
