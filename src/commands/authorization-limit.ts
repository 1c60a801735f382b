import { TemporarilyUnavailable } from '../domain/oauth-errors.js';
import type { SlidingWindow } from '../throttle/sliding-window.js';

/** The window the limits count in. */
export const AUTHORIZATION_WINDOW_SECONDS = 10 * 60;

/** Too many authorizations recorded for this user (and client) lately: answered at the redirect URI. */
export class TooManyAuthorizations extends TemporarilyUnavailable {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many authorizations in a short time; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`);
  }
}

/**
 * A bound on authorizations recorded per user, per client and in all: each decision
 * appends its request, sign-in, decision and code, kept for ever, and a signed-in browser
 * with remembered consent can send /authorize at line rate. Counted in the shared throttle
 * file, so every instance on the data directory sees the same count. Legitimate use (a
 * single-page app renewing silently every few minutes, a few tabs) stays far below.
 */
export class AuthorizationLimit {
  constructor(
    private readonly window: SlidingWindow,
    private readonly perClient: number,
    private readonly perUser: number,
  ) {}

  /** Refuses (TooManyAuthorizations) when this user is at either limit. */
  check(userId: string, clientId: string, now: Date): void {
    const at = now.getTime();
    const wait = Math.max(this.window.retryAfter(perClientKey(userId, clientId), this.perClient, at), this.window.retryAfter(perUserKey(userId), this.perUser, at));
    if (wait > 0) throw new TooManyAuthorizations(wait);
  }

  /** Counts one recorded authorization. */
  record(userId: string, clientId: string, now: Date): void {
    this.window.record(perClientKey(userId, clientId), now.getTime());
    this.window.record(perUserKey(userId), now.getTime());
  }

  close(): void {
    this.window.close();
  }
}

const perClientKey = (userId: string, clientId: string) => `client:${userId}\u0000${clientId}`;
const perUserKey = (userId: string) => `user:${userId}`;
