import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { SQLITE_CACHE_KIB } from '../sqlite/open-sqlite-file.js';

/**
 * Copies the SQLite write-ahead log into the database file from a worker thread with a
 * connection of its own, once a second. A PASSIVE checkpoint never blocks writers, and in
 * a worker its disk syncs no longer stall the event loop that serves requests.
 */
export function startWalCheckpointer(file: string, intervalMs = 1000): { stop(): Promise<void> } {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const Database = require(workerData.sqlite);
     const db = new Database(workerData.file);
     db.pragma('busy_timeout = 5000');
     db.pragma('cache_size = -' + workerData.cacheKib);
     setInterval(() => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} }, workerData.intervalMs);`,
    { eval: true, workerData: { file, sqlite, intervalMs, cacheKib: SQLITE_CACHE_KIB } },
  );
  worker.unref();
  worker.on('error', () => {});
  return {
    async stop() {
      await worker.terminate();
    },
  };
}
