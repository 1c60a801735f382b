import { join } from 'node:path';
import { tempDir } from '../../src/dev/temp-dir.js';
import { openSqliteFile, SQLITE_CACHE_KIB } from '../../src/sqlite/open-sqlite-file.js';

describe('a SQLite file as the stores open it', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('keeps at most 4 MB of its pages in memory, not the 16 MB better-sqlite3 would', () => {
    const db = openSqliteFile(join(dir.path, 'cache.sqlite'));
    try {
      // Negative: KiB, not pages. A connection fills its cache as the file grows and never gives it back.
      expect(db.pragma('cache_size', { simple: true })).toBe(-SQLITE_CACHE_KIB);
      expect(SQLITE_CACHE_KIB).toBeLessThanOrEqual(4000);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });
});
