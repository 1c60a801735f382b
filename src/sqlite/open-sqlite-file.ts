import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * A SQLite file as every store here opens it: its directory made if missing, WAL (readers
 * never block the writer), and a wait of up to five seconds for another connection's write
 * lock, since instances and the command line share these files.
 */
export function openSqliteFile(file: string, options: { directoryMode?: number; fileMode?: number } = {}): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: options.directoryMode });
  const db = new Database(file);
  // Before WAL makes its side files, which take the main file's mode.
  if (file !== ':memory:' && options.fileMode !== undefined) chmodSync(file, options.fileMode);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  return db;
}
