import type { ConsentGranted } from '../src/domain/events.js';
import { defineProjection } from './projection.js';
import type { ProjectionStore } from './projection-store.js';

export interface UserGrant {
  grantId: string;
  clientId: string;
  scopes: string[];
  grantedAt: string;
  /**
   * Until when the grant can still act: the latest expiry of its code, refresh tokens and
   * access tokens. Unknown (absent) for grants recorded before their code and refresh
   * token events named the user: those are kept.
   */
  aliveUntil?: string;
}

/** The group of one user's grants: list them with `entriesIn('grants', userGrants(userId))`. */
export const userGrants = (userId: string) => `user:${userId}`;

/**
 * The grants a user gave that still stand at `now`: what can act for them, and what consent
 * they remember. The projection drops a grant that ran out only when a later event arrives;
 * this answers exactly at any time, an idle server's too.
 */
export function liveGrantsOf(readModel: Pick<ProjectionStore, 'entriesIn'>, userId: string, now: Date): UserGrant[] {
  const at = now.toISOString();
  return readModel
    .entriesIn('grants', userGrants(userId))
    .map(([, doc]) => doc as UserGrant)
    .filter((grant) => grant.aliveUntil === undefined || grant.aliveUntil > at);
}

/** What a grant can act with, and until when: the events that extend its life, with the user they name. */
const LIFE_EVENTS = new Set(['AuthorizationCodeIssued', 'RefreshTokenIssued', 'AccessTokenIssued']);

/**
 * Each user's grants that can still act, one document per grant, grouped by user: what
 * the account page lists and lets the user revoke, and the consent that may stand in for
 * the consent page. One document per grant keeps every event's work small, however many
 * grants a user has. A grant leaves when it is revoked, or once its last code or token
 * has expired (the runner removes it by the events' times): a user who signs in to an
 * application every day does not add a document a day for ever, and an application whose
 * grants have all run out is no longer listed as able to act, nor is its consent
 * remembered. The whole history stays in the grant's stream.
 */
export const grantsProjection = defineProjection<UserGrant>({
  name: 'grants',
  keysOf: (event) => {
    const { userId, grantId } = event.data;
    if (!userId) return [];
    if (event.type === 'ConsentGranted' || event.type === 'GrantRevoked' || LIFE_EVENTS.has(event.type)) return [`${userGrants(String(userId))}/${String(grantId)}`];
    return [];
  },
  evolve: (current, event) => {
    switch (event.type) {
      case 'ConsentGranted': {
        const consent = event.data as unknown as ConsentGranted['data'];
        return { grantId: consent.grantId, clientId: consent.clientId, scopes: consent.scopes, grantedAt: event.time };
      }
      case 'GrantRevoked':
        return undefined;
      default: {
        // A code or a token: the grant lives at least as long. Access tokens only extend a life
        // already known: for a grant whose refresh token did not name the user, theirs would
        // end it before the refresh token it still has.
        const expiresAt = String(event.data.expiresAt);
        if (!current || (event.type === 'AccessTokenIssued' && current.aliveUntil === undefined)) return current;
        return current.aliveUntil !== undefined && current.aliveUntil >= expiresAt ? current : { ...current, aliveUntil: expiresAt };
      }
    }
  },
  expiresAt: (grant) => grant.aliveUntil,
});
