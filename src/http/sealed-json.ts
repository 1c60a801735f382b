import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A value a browser carries for the server (in a link or a cookie) that it can neither
 * read nor change: JSON, encrypted and authenticated with AES-256-GCM under a 32-byte key
 * of the server's own, bound to `context` (associated data: the same value opens only in
 * the same context), as base64url.
 */
export function sealJson(key: Buffer, context: string, value: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
  return Buffer.concat([iv, cipher.update(JSON.stringify(value)), cipher.final(), cipher.getAuthTag()]).toString('base64url');
}

/** The value sealJson sealed under this key and context; undefined for anything else. */
export function openJson<T>(key: Buffer, context: string, sealed: string): T | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES)).setAAD(Buffer.from(context));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    // Authenticated, so the server wrote it: it parses.
    return JSON.parse(Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString()) as T;
  } catch {
    return undefined;
  }
}
