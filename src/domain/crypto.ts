import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';

/** One-shot: a Hash object per call cost twice as much, on every token request. */
export const sha256 = (value: string): string => hash('sha256', value, 'base64url');

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
 * `count` bytes from the system's CSPRNG, drawn from a pool refilled 4 KB at a time, as
 * node:crypto does for randomUUID: asking the CSPRNG for 16 bytes per token cost more than
 * hashing them. Each byte is handed out once and wiped from the pool.
 */
function poolBytes(count: number): Buffer {
  if (used + count > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(Math.max(POOL_BYTES, count)));
    used = 0;
  }
  const bytes = Buffer.from(pool.subarray(used, used + count));
  pool.fill(0, used, used + count);
  used += count;
  return bytes;
}

/** Random bytes as base64url, for token ids, codes and refresh tokens. */
export const randomToken = (bytes: number): string => poolBytes(bytes).toString('base64url');

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Event
 * and grant ids made in time order land at the end of the event store's indexes instead
 * of on a random page each, which made every commit write a page per event per index.
 */
export function uuidv7(now = Date.now()): string {
  const bytes = poolBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
