import { createHmac, randomInt } from 'node:crypto';

/**
 * RFC 8628 section 6.1: the code a person reads off a device and types on a phone. Twenty
 * consonants that no font confuses and that spell no words, eight of them (34.5 bits, as
 * the RFC's example), shown as XXXX-XXXX. Case, dashes and spaces are not part of the code.
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

/** A new user code, drawn uniformly from the alphabet with the system's CSPRNG, as shown: XXXX-XXXX. */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What the person typed, as the code it means (upper case, no dashes or spaces); undefined if it cannot be one. */
export function normalizeUserCode(typed: string | undefined): string | undefined {
  if (typed === undefined || typed.length > 64) return undefined;
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  return code.length === USER_CODE_LENGTH && [...code].every((c) => USER_CODE_ALPHABET.includes(c)) ? code : undefined;
}

/**
 * The user code's hash as events record it, and what finds its grant: an HMAC-SHA-256 under a
 * key of the server's own, not a bare SHA-256. A code of 34.5 bits hashed without a key is
 * reversed by trying them all in seconds, and events go to every subscriber and auditor.
 */
export const userCodeHash = (key: Buffer, code: string): string => createHmac('sha256', key).update(`user_code:${code}`).digest('base64url');

/**
 * The id of the grant a user code belongs to, derived from the code's keyed hash (a UUID
 * version 8, RFC 9562 section 5.8), so that the verification page finds the grant's stream
 * from the code alone. Why a derived id rather than a projection keyed by the hash: the
 * stream is read from the store itself, so every instance finds a device's request the
 * moment it is appended (a projection on another instance would lag by its poll), and the
 * append that creates the stream is also what makes the code unique among live and past
 * ones, on every instance at once (two requests drawing one code: the second append finds
 * the stream there and draws again). No second stream and no index to keep in step.
 */
export function grantIdOfUserCode(key: Buffer, code: string): string {
  const bytes = createHmac('sha256', key).update(`grant:${code}`).digest().subarray(0, 16);
  bytes[6] = 0x80 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
