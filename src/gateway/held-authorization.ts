import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { HeldAuthorization } from '../domain/grant.js';
import { sessionHash } from './browser-session.js';

/**
 * The longest held authorization: its link must stay well inside what servers take as a
 * request line (Node's 16 KB of headers). One too large to hold (a `state` of kilobytes)
 * is refused at /authorize, where the client learns why, not at the login page.
 */
export const MAX_SEALED_LENGTH = 8192;
const SEALED = new RegExp(`^[A-Za-z0-9_-]{40,${MAX_SEALED_LENGTH}}$`);
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * An authorization nobody has decided yet (HeldAuthorization: the request, and who signed
 * in for it), held by the browser rather than the event store: anyone can send
 * `/authorize` at line rate, and the store keeps every event for ever. The user's decision
 * on the consent page records it all in one append; one abandoned on the way leaves
 * nothing behind.
 *
 * The browser carries it in the login and consent links, encrypted and authenticated
 * (AES-256-GCM) under a key of the server's own, with the browser session as associated
 * data. So only this server can make one (nobody can claim to be signed in), only the
 * browser it was made for can use it, and the link shows nothing: not the username, the
 * user id or the client's `state`, which browser history and Referer headers would keep.
 */
export function sealHeldAuthorization(key: Buffer, sessionId: string, held: HeldAuthorization): string {
  const { browserSessionHash: _bound, ...request } = held.request;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(sessionId));
  const sealed = Buffer.concat([iv, cipher.update(JSON.stringify({ request, signedIn: held.signedIn })), cipher.final(), cipher.getAuthTag()]);
  return sealed.toString('base64url');
}

/** The held authorization, if this server sealed it for this browser session; undefined for anything else. */
export function openHeldAuthorization(key: Buffer, sessionId: string, sealed: string | undefined): HeldAuthorization | undefined {
  if (!sealed || !SEALED.test(sealed)) return undefined;
  const bytes = Buffer.from(sealed, 'base64url');
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES)).setAAD(Buffer.from(sessionId));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString();
  } catch {
    return undefined;
  }
  // Authenticated, so this server wrote it: it parses and has the shape it was given.
  const { request, signedIn } = JSON.parse(plain) as { request: Omit<HeldAuthorization['request'], 'browserSessionHash'>; signedIn?: HeldAuthorization['signedIn'] };
  return { request: { ...request, browserSessionHash: sessionHash(sessionId) }, ...(signedIn ? { signedIn } : {}) };
}
