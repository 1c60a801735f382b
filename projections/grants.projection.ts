import type { ConsentGranted, GrantRevoked } from '../src/domain/events.js';
import { defineProjection } from './projection.js';

export interface UserGrant {
  grantId: string;
  clientId: string;
  scopes: string[];
  grantedAt: string;
  revokedAt: string | null;
}

/** Each user's grants, by user: what the account page lists and lets the user revoke. */
export const grantsProjection = defineProjection<Record<string, UserGrant>>({
  name: 'grants',
  keysOf: (event) => {
    if (event.type === 'ConsentGranted') return [`user:${String(event.data.userId)}`];
    if (event.type === 'GrantRevoked' && event.data.userId) return [`user:${String(event.data.userId)}`];
    return [];
  },
  evolve: (current = {}, event) => {
    if (event.type === 'ConsentGranted') {
      const consent = event.data as unknown as ConsentGranted['data'];
      return { ...current, [consent.grantId]: { grantId: consent.grantId, clientId: consent.clientId, scopes: consent.scopes, grantedAt: event.time, revokedAt: null } };
    }
    const revoked = event.data as unknown as GrantRevoked['data'];
    const grant = current[revoked.grantId];
    return grant ? { ...current, [revoked.grantId]: { ...grant, revokedAt: event.time } } : current;
  },
});
