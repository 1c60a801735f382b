import type Database from 'better-sqlite3';
import { openSqliteFile } from '../sqlite/open-sqlite-file.js';
import type { Lease } from './lease.js';

/**
 * A lease in a SQLite file shared by the instances (one host, or one shared volume):
 * whoever holds it, and renews it before it runs out, is the one that may act. When the
 * holder dies its lease runs out and another instance takes it.
 */
export class SqliteLease implements Lease {
  private readonly db: Database.Database;
  private readonly take: (now: number) => boolean;
  private readonly drop: () => void;

  constructor(
    file: string,
    readonly name: string,
    readonly holder: string,
    readonly ttlMs: number,
  ) {
    this.db = openSqliteFile(file);
    this.db.exec('CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL)');
    const upsert = this.db.prepare<[string, string, number, number]>(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at < ?`,
    );
    const current = this.db.prepare<[string], { holder: string }>('SELECT holder FROM leases WHERE name = ?');
    const release = this.db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder = ?');
    this.take = this.db.transaction((now: number) => {
      upsert.run(name, holder, now + ttlMs, now);
      return current.get(name)?.holder === holder;
    }).immediate;
    this.drop = () => void release.run(name, holder);
  }

  /** Takes or renews the lease; true while this holder has it. */
  async tryAcquire(now = Date.now()): Promise<boolean> {
    try {
      return this.take(now);
    } catch {
      // The file locked past the busy timeout: not renewed, so act as if it were lost.
      return false;
    }
  }

  async release(): Promise<void> {
    if (this.db.open) {
      this.drop();
      this.db.close();
    }
  }
}
