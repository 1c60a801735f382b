import { createHash, timingSafeEqual } from 'node:crypto';

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
