import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../domain/crypto.js';
import type { AuthorizationRequested } from '../domain/events.js';
import { sessionHash } from './browser-session.js';

type Request = AuthorizationRequested['data'];

/**
 * The longest held request: its link must stay well inside what servers take as a request
 * line (Node's 16 KB of headers). A request too large to hold (a `state` of kilobytes) is
 * refused at /authorize, where the client learns why, not at the login page.
 */
const MAX_PAYLOAD_LENGTH = 8192;
export const MAX_SEALED_LENGTH = MAX_PAYLOAD_LENGTH + 1 + 43;
const SEALED = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_PAYLOAD_LENGTH}}\\.[A-Za-z0-9_-]{43}$`);

const tagOf = (key: Buffer, sessionId: string, payload: string) => createHmac('sha256', key).update(`${sessionId}.${payload}`).digest('base64url');

/**
 * An authorization request nobody has signed in for yet, held by the browser rather than
 * the event store: anyone can send `/authorize` at line rate, and the store keeps every
 * event for ever. It is recorded (`AuthorizationRequested`) with the sign-in that acts on
 * it; one abandoned at the login page leaves nothing behind.
 *
 * The browser carries it as `<payload>.<tag>`: the request's data as base64url JSON, and an
 * HMAC of the browser session and the payload under a key of the server's own. So only this
 * server can make one, and only the browser it was made for can use it; the session's hash
 * is not in the payload (it is the tag's business), so it never shows in a URL.
 */
export function sealAuthorizationRequest(key: Buffer, sessionId: string, request: Request): string {
  const { browserSessionHash: _bound, ...rest } = request;
  const payload = Buffer.from(JSON.stringify(rest)).toString('base64url');
  return `${payload}.${tagOf(key, sessionId, payload)}`;
}

/** The request, if this server sealed it for this browser session; undefined for anything else. */
export function openAuthorizationRequest(key: Buffer, sessionId: string, sealed: string | undefined): Request | undefined {
  if (!sealed || !SEALED.test(sealed)) return undefined;
  const [payload, tag] = sealed.split('.');
  if (!constantTimeEqual(tagOf(key, sessionId, payload), tag)) return undefined;
  // The tag proves this server wrote the payload, so it parses and has the request's shape.
  return { ...(JSON.parse(Buffer.from(payload, 'base64url').toString()) as Omit<Request, 'browserSessionHash'>), browserSessionHash: sessionHash(sessionId) };
}
