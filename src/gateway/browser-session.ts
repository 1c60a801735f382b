import { createHmac } from 'node:crypto';
import type { Context } from 'koa';
import { constantTimeEqual, randomToken, sha256 } from '../domain/crypto.js';
import { InvalidRequest } from '../domain/oauth-errors.js';

const COOKIE = 'as_session';
const SIGN_IN_COOKIE = 'as_signin';
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** Cookies are Secure when the issuer is https: only then does the browser reach the server over TLS. */
export const secureCookies = (config: { issuer: string }): boolean => config.issuer.startsWith('https:');

function readCookie(ctx: Context, name: string): string | undefined {
  for (const part of (ctx.get('cookie') || '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/**
 * The browser's session with the authorization server: a random id in an HttpOnly,
 * SameSite=Lax cookie (Secure when the issuer is https). Authorization requests record
 * only its hash, and login and consent are accepted only from the same browser.
 */
export function browserSession(ctx: Context, secure: boolean, create: boolean): string | undefined {
  const existing = readCookie(ctx, COOKIE);
  if (existing && COOKIE_VALUE.test(existing)) return existing;
  if (!create) return undefined;
  const id = randomToken(32);
  ctx.append('Set-Cookie', `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
  return id;
}

export const sessionHash = (sessionId: string): string => sha256(sessionId);

/**
 * The browser's sign-in session (single sign-on), as the id its stream is named by: the
 * hash of the cookie, so the store never holds what the browser presents.
 */
export function signInSessionOf(ctx: Context): string | undefined {
  const value = readCookie(ctx, SIGN_IN_COOKIE);
  return value && COOKIE_VALUE.test(value) ? sha256(value) : undefined;
}

/** A sign-in session id as a form names it: the shape of the hash signInSessionOf gives. */
export const isSignInSessionId = (value: string | undefined): value is string => value !== undefined && COOKIE_VALUE.test(value);

/** Sets the sign-in cookie to a new session's, or clears it (undefined). Lax, so a redirect from a client carries it. */
export function setSignInCookie(ctx: Context, session: { cookie: string; maxAgeSeconds: number } | undefined, secure: boolean): void {
  ctx.append('Set-Cookie', `${SIGN_IN_COOKIE}=${session?.cookie ?? ''}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${session?.maxAgeSeconds ?? 0}${secure ? '; Secure' : ''}`);
}

/** An HMAC of a value and the browser session: only the server makes it, and it holds for that browser alone. */
export const sessionBoundTag = (key: Buffer, sessionId: string, value: string): string => createHmac('sha256', key).update(`${sessionId}.${value}`).digest('base64url');

/** CSRF token for a form: bound to the browser session and to the authorization request. */
export const csrfToken = (key: Buffer, sessionId: string, grantId: string): string => sessionBoundTag(key, sessionId, grantId);

export function checkCsrf(key: Buffer, sessionId: string | undefined, grantId: string, token: string | undefined): void {
  if (!sessionId || !token || !constantTimeEqual(csrfToken(key, sessionId, grantId), token)) {
    throw new InvalidRequest('the form has expired or did not come from this site; start again from the application');
  }
}
