import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { sha256 } from '../domain/crypto.js';

const COOKIE = 'as_account';
const TTL_MS = 30 * 60_000;

/**
 * Signed-in sessions for the account page, kept in this process's memory by the hash of
 * the cookie's value. They end after 30 minutes or on sign-out. (Several instances behind
 * one name would need a shared session store.)
 */
export class AccountSessions {
  private readonly sessions = new Map<string, { userId: string; expiresAt: number }>();

  constructor(private readonly secure: boolean) {}

  userOf(ctx: Context): string | undefined {
    const value = /(?:^|;\s*)as_account=([A-Za-z0-9_-]{43})/.exec(ctx.get('cookie'))?.[1];
    if (!value) return undefined;
    const session = this.sessions.get(sha256(value));
    if (!session || session.expiresAt < Date.now()) return undefined;
    return session.userId;
  }

  start(ctx: Context, userId: string): void {
    const value = randomBytes(32).toString('base64url');
    const now = Date.now();
    for (const [key, session] of this.sessions) if (session.expiresAt < now) this.sessions.delete(key);
    this.sessions.set(sha256(value), { userId, expiresAt: now + TTL_MS });
    ctx.append('Set-Cookie', `${COOKIE}=${value}; Path=/account; HttpOnly; SameSite=Strict; Max-Age=${TTL_MS / 1000}${this.secure ? '; Secure' : ''}`);
  }

  end(ctx: Context): void {
    const value = /(?:^|;\s*)as_account=([A-Za-z0-9_-]{43})/.exec(ctx.get('cookie'))?.[1];
    if (value) this.sessions.delete(sha256(value));
    ctx.append('Set-Cookie', `${COOKIE}=; Path=/account; HttpOnly; SameSite=Strict; Max-Age=0${this.secure ? '; Secure' : ''}`);
  }
}
