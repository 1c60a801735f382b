import type { HeldAuthorization } from '../domain/grant.js';
import { openJson, sealJson } from '../http/sealed-json.js';
import { sessionHash } from './browser-session.js';

/**
 * The longest held authorization: its link must stay well inside what servers take as a
 * request line (Node's 16 KB of headers). One too large to hold (a `state` of kilobytes)
 * is refused at /authorize, where the client learns why, not at the login page.
 */
export const MAX_SEALED_LENGTH = 8192;
const SEALED = new RegExp(`^[A-Za-z0-9_-]{40,${MAX_SEALED_LENGTH}}$`);

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
  return sealJson(key, sessionId, { request, signedIn: held.signedIn });
}

/** The held authorization, if this server sealed it for this browser session; undefined for anything else. */
export function openHeldAuthorization(key: Buffer, sessionId: string, sealed: string | undefined): HeldAuthorization | undefined {
  if (!sealed || !SEALED.test(sealed)) return undefined;
  const opened = openJson<{ request: Omit<HeldAuthorization['request'], 'browserSessionHash'>; signedIn?: HeldAuthorization['signedIn'] }>(key, sessionId, sealed);
  if (!opened) return undefined;
  return { request: { ...opened.request, browserSessionHash: sessionHash(sessionId) }, ...(opened.signedIn ? { signedIn: opened.signedIn } : {}) };
}
