import { TemporarilyUnavailable } from '../domain/oauth-errors.js';
import { secondsUntilFewerThan } from '../domain/time-window.js';
import { RECENT_AUTHORIZATIONS_SECONDS } from '../read-model/documents.js';
import type { ReadModel } from '../read-model/read-model.js';

/** The window the limits count in: what the read side keeps of each user's authorizations. */
export const AUTHORIZATION_WINDOW_SECONDS = RECENT_AUTHORIZATIONS_SECONDS;

/** Too many authorizations recorded for this user (and client) lately: answered at the redirect URI. */
export class TooManyAuthorizations extends TemporarilyUnavailable {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many authorizations in a short time; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`);
  }
}

/**
 * A bound on authorizations recorded per user, per client and in all: each decision
 * appends its request, sign-in, decision and code, kept for ever, and a signed-in browser
 * with remembered consent can send /authorize at line rate.
 *
 * Counted from the record itself (the read side's recent authorizations, folded from the
 * decisions' events), so every instance following the store counts the same, and the
 * authorization's path has no write of its own (a shared counter file cost a signed-in
 * flow a tenth of its speed). The read side lags the store by a moment (a tick on the
 * instance that appended, its poll interval on the others), so a burst can pass the bound
 * by what is in flight meanwhile: it bounds growth, it is no exact quota. Legitimate use
 * (a single-page app renewing silently every few minutes, a few tabs) stays far below.
 */
export class AuthorizationLimit {
  constructor(
    private readonly readModel: Pick<ReadModel, 'recentAuthorizationsOf'>,
    private readonly perClient: number,
    private readonly perUser: number,
  ) {}

  /** Refuses (TooManyAuthorizations) when this user is at either limit. */
  check(userId: string, clientId: string, now: Date): void {
    const windowStart = new Date(now.getTime() - AUTHORIZATION_WINDOW_SECONDS * 1000);
    const all = this.readModel.recentAuthorizationsOf(userId, windowStart);
    const wait = Math.max(
      secondsUntilFewerThan(all.filter((a) => a.clientId === clientId), this.perClient, AUTHORIZATION_WINDOW_SECONDS, now),
      secondsUntilFewerThan(all, this.perUser, AUTHORIZATION_WINDOW_SECONDS, now),
    );
    if (wait > 0) throw new TooManyAuthorizations(wait);
  }
}
