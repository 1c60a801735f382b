import type { GrantRevoked, TokenRevoked } from '../src/domain/events.js';
import { defineProjection } from './projection.js';

export interface AccessTokenStatus {
  grantId: string;
  clientId: string;
  userId: string | null;
  expiresAt: string;
  active: boolean;
}
export interface GrantStatus {
  revoked: true;
  reason: GrantRevoked['data']['reason'];
  revokedAt: string;
}
/** A disabled client: every token issued to it is refused, whichever grant it came from. */
export interface ClientStatus {
  disabled: true;
  disabledAt: string;
}
export type TokenStatusDocument = AccessTokenStatus | GrantStatus | ClientStatus;

export const tokenStatusKey = {
  accessToken: (jti: string) => `at:${jti}`,
  grant: (grantId: string) => `grant:${grantId}`,
  client: (clientId: string) => `client:${clientId}`,
};

/**
 * What the resource server checks, beyond the signature, before it serves a token:
 * whether the token itself, or the grant it was issued under, has been revoked, or the
 * client it was issued to disabled (a disabled user is on the users projection). Only
 * revocations make documents: the signature already proves a token was issued, and a
 * document per issued token would grow with every token ever issued.
 */
export const tokenStatusProjection = defineProjection<TokenStatusDocument>({
  name: 'token-status',
  keysOf: (event) => {
    switch (event.type) {
      case 'TokenRevoked':
        return [tokenStatusKey.accessToken(String(event.data.jti))];
      case 'GrantRevoked':
        return [tokenStatusKey.grant(String(event.data.grantId))];
      case 'ClientDisabled':
        return [tokenStatusKey.client(String(event.data.clientId))];
      default:
        return [];
    }
  },
  evolve: (current, event) => {
    switch (event.type) {
      case 'TokenRevoked': {
        // Files written when issued tokens had documents too still hold them (active: true).
        const revoked = event.data as unknown as TokenRevoked['data'];
        return current && 'active' in current ? { ...current, active: false } : current ?? { grantId: revoked.grantId, clientId: '', userId: null, expiresAt: '', active: false };
      }
      case 'GrantRevoked':
        return { revoked: true, reason: (event.data as unknown as GrantRevoked['data']).reason, revokedAt: event.time };
      case 'ClientDisabled':
        return { disabled: true, disabledAt: event.time };
      default:
        return current;
    }
  },
});

/** Whether the resource server must refuse a token with this jti, issued under this grant. */
export function isRevoked(lookup: (key: string) => TokenStatusDocument | undefined, jti: string, grantId: string): boolean {
  const token = lookup(tokenStatusKey.accessToken(jti));
  if (token && 'active' in token && !token.active) return true;
  return lookup(tokenStatusKey.grant(grantId)) !== undefined;
}
