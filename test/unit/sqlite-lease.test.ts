import { join } from 'node:path';
import { SqliteLease } from '../../src/checkpoints/sqlite-lease.js';
import { tempDir } from '../../src/dev/temp-dir.js';

describe('a lease in a shared SQLite file', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('is held by one holder at a time, renewed by it, and taken over once it runs out', async () => {
    const file = join(dir.path, 'leases.sqlite');
    const a = new SqliteLease(file, 'relay', 'a', 1000);
    const b = new SqliteLease(file, 'relay', 'b', 1000);
    expect(await a.tryAcquire(10_000)).toBe(true);
    expect(await b.tryAcquire(10_500)).toBe(false);
    expect(await a.tryAcquire(10_900)).toBe(true); // renewed until 11 900
    expect(await b.tryAcquire(11_800)).toBe(false);
    expect(await b.tryAcquire(12_000)).toBe(true); // a stopped renewing: b takes over
    expect(await a.tryAcquire(12_100)).toBe(false);
    await b.release();
    expect(await a.tryAcquire(12_200)).toBe(true);
    await a.release();
  });

  it('keeps different names apart', async () => {
    const file = join(dir.path, 'names.sqlite');
    const relay = new SqliteLease(file, 'relay', 'a', 1000);
    const other = new SqliteLease(file, 'other', 'b', 1000);
    expect(await relay.tryAcquire(0)).toBe(true);
    expect(await other.tryAcquire(0)).toBe(true);
    await relay.release();
    await other.release();
  });
});
