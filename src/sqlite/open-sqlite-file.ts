import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Pages of a file a connection keeps in memory, in KiB (SQLite's negative cache_size).
 * better-sqlite3 raises SQLite's 2 MB default to 16 MB per connection, and a connection fills
 * it as its file grows: 16 MB of malloc'd memory that never goes back, for the event store
 * whose appends touch only the right edges of its indexes. 4 MB appends as fast (bench/).
 */
export const SQLITE_CACHE_KIB = 4000;

/**
 * A SQLite file as every store here opens it: its directory made if missing, WAL (readers
 * never block the writer), a wait of up to five seconds for another connection's write
 * lock, since instances and the command line share these files, and a bounded page cache.
 */
export function openSqliteFile(file: string, options: { directoryMode?: number; fileMode?: number } = {}): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: options.directoryMode });
  const db = new Database(file);
  // Before WAL makes its side files, which take the main file's mode.
  if (file !== ':memory:' && options.fileMode !== undefined) chmodSync(file, options.fileMode);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  return db;
}
