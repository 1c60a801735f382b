import { constantTimeEqual } from '../domain/crypto.js';
import type { HeldAuthorization } from '../domain/grant.js';
import { sessionBoundTag, sessionHash } from './browser-session.js';

/**
 * The longest held authorization: its link must stay well inside what servers take as a
 * request line (Node's 16 KB of headers). One too large to hold (a `state` of kilobytes)
 * is refused at /authorize, where the client learns why, not at the login page.
 */
const MAX_PAYLOAD_LENGTH = 8192;
export const MAX_SEALED_LENGTH = MAX_PAYLOAD_LENGTH + 1 + 43;
const SEALED = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_PAYLOAD_LENGTH}}\\.[A-Za-z0-9_-]{43}$`);

/**
 * An authorization nobody has decided yet (HeldAuthorization: the request, and who signed
 * in for it), held by the browser rather than the event store: anyone can send
 * `/authorize` at line rate, and the store keeps every event for ever. The user's decision
 * on the consent page records it all in one append; one abandoned on the way leaves
 * nothing behind.
 *
 * The browser carries it in the login and consent links as `<payload>.<tag>`: its data as
 * base64url JSON, and an HMAC of the browser session and the payload under a key of the
 * server's own. So only this server can make one (nobody can claim to be signed in), and
 * only the browser it was made for can use it; the session's hash is not in the payload
 * (it is the tag's business), so it never shows in a URL.
 */
export function sealHeldAuthorization(key: Buffer, sessionId: string, held: HeldAuthorization): string {
  const { browserSessionHash: _bound, ...request } = held.request;
  const payload = Buffer.from(JSON.stringify({ request, signedIn: held.signedIn })).toString('base64url');
  return `${payload}.${sessionBoundTag(key, sessionId, payload)}`;
}

/** The held authorization, if this server sealed it for this browser session; undefined for anything else. */
export function openHeldAuthorization(key: Buffer, sessionId: string, sealed: string | undefined): HeldAuthorization | undefined {
  if (!sealed || !SEALED.test(sealed)) return undefined;
  const [payload, tag] = sealed.split('.');
  if (!constantTimeEqual(sessionBoundTag(key, sessionId, payload), tag)) return undefined;
  // The tag proves this server wrote the payload, so it parses and has the shape it was given.
  const { request, signedIn } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { request: Omit<HeldAuthorization['request'], 'browserSessionHash'>; signedIn?: HeldAuthorization['signedIn'] };
  return { request: { ...request, browserSessionHash: sessionHash(sessionId) }, ...(signedIn ? { signedIn } : {}) };
}
