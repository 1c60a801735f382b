import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAddressFailures as AddressFailures } from '../../src/credentials/address-failures.js';
import { tempDir } from '../../src/dev/temp-dir.js';

describe('failed sign-ins by address', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const window = 15 * 60_000;

  // Seen by every instance, within the window only: test/contract/shared-state.contract.test.ts, for SQLite and PostgreSQL.
  it('drops rows older than the window as it goes', async () => {
    const file = join(dir.path, 'pruned.sqlite');
    const failures = new AddressFailures(file, window);
    const start = Date.parse('2026-11-22T10:00:00Z');
    for (let i = 0; i < 512; i++) await failures.record(`192.0.2.${i % 250}`, start + i * 10_000);
    await failures.close();
    const db = new Database(file, { readonly: true });
    const { rows, oldest } = db.prepare<[], { rows: number; oldest: number }>('SELECT count(*) AS rows, min(at) AS oldest FROM address_failures').get()!;
    db.close();
    expect(rows).toBeLessThan(512);
    expect(oldest).toBeGreaterThan(start);
  });

  it('says how long until fewer than the limit are in the window', async () => {
    const file = join(dir.path, 'limits.sqlite');
    const failures = new AddressFailures(file, window);
    const now = Date.parse('2026-11-22T10:00:00Z');
    for (const seconds of [0, 60, 120]) await failures.record('192.0.2.1', now + seconds * 1000);
    expect(await failures.retryAfter('192.0.2.1', 4, now + 130_000)).toBe(0);
    expect(await failures.retryAfter('192.0.2.1', 3, now + 130_000)).toBe(900 - 130);
    expect(await failures.retryAfter('192.0.2.1', 2, now + 130_000)).toBe(900 + 60 - 130);
    expect(await failures.retryAfter('198.51.100.7', 1, now + 130_000)).toBe(0);
    await failures.close();
  });
});
