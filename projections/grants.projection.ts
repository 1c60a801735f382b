import type { UserGrant } from '../src/read-model/documents.js';
import { projectionOf } from './projection.js';
import type { ProjectionStore } from './projection-store.js';

export type { UserGrant };

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
export const grantsProjection = projectionOf<UserGrant>().folding({
  name: 'grants',
  // A device's approval lives as long as its device code, as a code's grant does (RFC 8628).
  handles: ['ConsentGranted', 'GrantRevoked', 'AuthorizationCodeIssued', 'DeviceCodeApproved', 'RefreshTokenIssued', 'AccessTokenIssued'],
  keysOf: (event) => {
    const { userId, grantId } = event.data;
    return userId ? [`${userGrants(userId)}/${grantId}`] : [];
  },
  evolve: (current, event) => {
    switch (event.type) {
      case 'ConsentGranted': {
        const consent = event.data;
        return { grantId: consent.grantId, clientId: consent.clientId, scopes: consent.scopes, ...(consent.resources ? { resources: consent.resources } : {}), grantedAt: event.time };
      }
      case 'GrantRevoked':
        return undefined;
      default: {
        const { expiresAt } = event.data;
        if (!current || (event.type === 'AccessTokenIssued' && current.aliveUntil === undefined)) return current;
        return current.aliveUntil !== undefined && current.aliveUntil >= expiresAt ? current : { ...current, aliveUntil: expiresAt };
      }
    }
  },
  expiresAt: (grant) => grant.aliveUntil,
});
