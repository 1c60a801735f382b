import { createHmac } from 'node:crypto';
import type { Context } from 'koa';
import { constantTimeEqual, randomToken, sha256 } from '../domain/crypto.js';
import { InvalidRequest } from '../domain/oauth-errors.js';

const RANDOM_VALUE = /^[A-Za-z0-9_-]{43}$/;
const SESSION_VALUE = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** Cookies are Secure when the issuer is https: only then does the browser reach the server over TLS. */
export const secureCookies = (config: { issuer: string }): boolean => config.issuer.startsWith('https:');

function readCookie(ctx: Context, name: string): string | undefined {
  for (const part of (ctx.get('cookie') || '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export const sessionHash = (sessionId: string): string => sha256(sessionId);

/** A sign-in session id as a form names it: the shape of the hash signInSessionOf gives. */
export const isSignInSessionId = (value: string | undefined): value is string => value !== undefined && RANDOM_VALUE.test(value);

/** A new sign-in session's cookie: its value (the store keeps its hash) and lifetime. */
export interface SignInCookie {
  cookie: string;
  maxAgeSeconds: number;
}

/**
 * The browser's two cookies with the authorization server, both HttpOnly and SameSite=Lax:
 *
 * - the browser session (`as_session`), which CSRF tokens and held authorizations are
 *   bound to. Its value is made here only (a random id and an HMAC of it under a server
 *   key): a value the browser made up, or one planted in it, is not taken but replaced.
 *   It is replaced at every sign-in and sign-out too, so a value someone learned or
 *   planted before is worth nothing after (and so is every form made for it).
 * - the sign-in session (`as_signin`), whose hash names the session's stream.
 *
 * With an https issuer both are Secure and named with the `__Host-` prefix, which a
 * browser accepts only from this host, over TLS, for path `/`: a sibling subdomain cannot
 * plant them.
 */
export class BrowserCookies {
  private readonly sessionCookie: string;
  private readonly signInCookie: string;
  private readonly attributes: string;

  constructor(
    private readonly key: Buffer,
    readonly secure: boolean,
  ) {
    this.sessionCookie = secure ? '__Host-as_session' : 'as_session';
    this.signInCookie = secure ? '__Host-as_signin' : 'as_signin';
    this.attributes = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  /** The browser session, if the browser holds one this server made (or this answer set one). */
  session(ctx: Context): string | undefined {
    const set = ctx.state.browserSession as string | undefined;
    if (set) return set;
    const value = readCookie(ctx, this.sessionCookie);
    const match = value ? SESSION_VALUE.exec(value) : null;
    return match && constantTimeEqual(this.sign(match[1]), match[2]) ? value : undefined;
  }

  /** The browser session, started now if the browser has none of ours. */
  ensureSession(ctx: Context): string {
    return this.session(ctx) ?? this.newSession(ctx);
  }

  /** A new browser session in place of any the browser had: at sign-in and sign-out. */
  newSession(ctx: Context): string {
    const random = randomToken(32);
    const value = `${random}.${this.sign(random)}`;
    ctx.state.browserSession = value;
    ctx.append('Set-Cookie', `${this.sessionCookie}=${value}; ${this.attributes}`);
    return value;
  }

  /** The browser's sign-in session, as the id its stream is named by: the hash of the cookie, never the cookie. */
  signInSessionOf(ctx: Context): string | undefined {
    const value = readCookie(ctx, this.signInCookie);
    return value && RANDOM_VALUE.test(value) ? sha256(value) : undefined;
  }

  /** Sets the sign-in cookie to a new session's, or clears it (undefined). Lax, so a redirect from a client carries it. */
  setSignIn(ctx: Context, session: SignInCookie | undefined): void {
    ctx.append('Set-Cookie', `${this.signInCookie}=${session?.cookie ?? ''}; ${this.attributes}; Max-Age=${session?.maxAgeSeconds ?? 0}`);
  }

  /** CSRF token for a form: bound to the browser session and to what the form acts on. */
  csrfToken(sessionId: string, purpose: string): string {
    return sessionBoundTag(this.key, sessionId, purpose);
  }

  checkCsrf(sessionId: string | undefined, purpose: string, token: string | undefined): void {
    if (!sessionId || !token || !constantTimeEqual(this.csrfToken(sessionId, purpose), token)) {
      throw new InvalidRequest('the form has expired or did not come from this site; start again from the application');
    }
  }

  private sign(random: string): string {
    return sessionBoundTag(this.key, 'browser-session', random);
  }
}

/** An HMAC of a value and the browser session: only the server makes it, and it holds for that browser alone. */
export const sessionBoundTag = (key: Buffer, sessionId: string, value: string): string => createHmac('sha256', key).update(`${sessionId}.${value}`).digest('base64url');
