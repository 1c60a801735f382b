import type { ConsentGranted } from '../src/domain/events.js';
import { defineProjection } from './projection.js';
import type { ProjectionStore } from './projection-store.js';

export interface UserGrant {
  grantId: string;
  clientId: string;
  scopes: string[];
  grantedAt: string;
  revokedAt: string | null;
}

/** The group of one user's grants: list them with `entriesIn('grants', userGrants(userId))`. */
export const userGrants = (userId: string) => `user:${userId}`;

/** The grants a user gave that still stand: what can act for them, and what consent they remember. */
export function liveGrantsOf(readModel: Pick<ProjectionStore, 'entriesIn'>, userId: string): UserGrant[] {
  return readModel
    .entriesIn('grants', userGrants(userId))
    .map(([, doc]) => doc as UserGrant)
    .filter((grant) => grant.revokedAt === null);
}

/**
 * Each user's grants, one document per grant, grouped by user: what the account page
 * lists and lets the user revoke. One document per grant keeps every event's work small,
 * however many grants a user has.
 */
export const grantsProjection = defineProjection<UserGrant>({
  name: 'grants',
  keysOf: (event) => {
    if ((event.type === 'ConsentGranted' || event.type === 'GrantRevoked') && event.data.userId) {
      return [`${userGrants(String(event.data.userId))}/${String(event.data.grantId)}`];
    }
    return [];
  },
  evolve: (current, event) => {
    if (event.type === 'ConsentGranted') {
      const consent = event.data as unknown as ConsentGranted['data'];
      return { grantId: consent.grantId, clientId: consent.clientId, scopes: consent.scopes, grantedAt: event.time, revokedAt: null };
    }
    // GrantRevoked: the grant stays listed in history, marked with when it ended.
    return current ? { ...current, revokedAt: event.time } : current;
  },
});
