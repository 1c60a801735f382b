import { createHash, randomFillSync, timingSafeEqual } from 'node:crypto';

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

/**
 * Compares two strings in time that does not depend on where they differ. A difference in
 * length shows, which tells nothing here: every value compared (hashes, CSRF tokens, PKCE
 * challenges) has a fixed, public length. Hashing both sides first cost two SHA-256 per call.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/**
 * `bytes` random bytes from the system's CSPRNG as base64url, for token ids, codes and
 * refresh tokens. Drawn from a pool refilled 4 KB at a time, as node:crypto does for
 * randomUUID: asking the CSPRNG for 16 bytes per token cost more than hashing them.
 */
export function randomToken(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(Math.max(POOL_BYTES, bytes)));
    used = 0;
  }
  const token = pool.toString('base64url', used, used + bytes);
  // Each byte is handed out once: wipe it so the pool never holds a token already given.
  pool.fill(0, used, used + bytes);
  used += bytes;
  return token;
}
