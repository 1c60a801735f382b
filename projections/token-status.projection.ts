import type { GrantRevoked } from '../src/domain/events.js';
import { projectionOf } from './projection.js';

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
  /** When the last token issued under the grant expires; absent when the event did not say (kept for ever). */
  accessTokensExpireBy?: string;
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
 * How long a revocation is remembered after the last token it covers expires: the resource
 * server accepts a token up to 30 s past its `exp` (clock tolerance), and the times that
 * decide when a revocation goes are the authorization server's (the events'), whose clock
 * may differ from the resource server's.
 */
export const REVOCATION_KEPT_PAST_EXPIRY_SECONDS = 300;

const keptUntil = (expiresAt: string) => new Date(Date.parse(expiresAt) + REVOCATION_KEPT_PAST_EXPIRY_SECONDS * 1000).toISOString();

/**
 * What the resource server checks, beyond the signature, before it serves a token:
 * whether the token itself, or the grant it was issued under, has been revoked, or the
 * client it was issued to disabled (a disabled user is on the users projection). Only
 * revocations make documents: the signature already proves a token was issued, and a
 * document per issued token would grow with every token ever issued. And a revocation
 * goes once the tokens it covers have expired (a while after, see above): an expired
 * token is refused for its `exp` alone, so the projection holds the revocations that
 * still matter, not every one ever made. Revocations recorded before their events said
 * when that is (TokenRevoked v1, GrantRevoked v1-v2) are kept.
 */
export const tokenStatusProjection = projectionOf<TokenStatusDocument>().folding({
  name: 'token-status',
  // 2: disabled clients, revocations that expire, no document per issued token. A resource
  // server's store folded by version 1 is folded again at start (a client disabled before
  // the upgrade would otherwise still pass there). 3: deleted clients (RFC 7592) as disabled ones.
  version: 3,
  handles: ['TokenRevoked', 'GrantRevoked', 'ClientDisabled', 'ClientDeleted'],
  keysOf: (event) => {
    switch (event.type) {
      case 'TokenRevoked':
        return [tokenStatusKey.accessToken(event.data.jti)];
      case 'GrantRevoked':
        return [tokenStatusKey.grant(event.data.grantId)];
      case 'ClientDisabled':
      case 'ClientDeleted':
        return [tokenStatusKey.client(event.data.clientId)];
    }
  },
  evolve: (current, event) => {
    switch (event.type) {
      case 'TokenRevoked': {
        const revoked = event.data;
        return current && 'active' in current
          ? { ...current, active: false }
          : current ?? { grantId: revoked.grantId, clientId: '', userId: null, expiresAt: revoked.expiresAt ?? '', active: false };
      }
      case 'GrantRevoked': {
        const { reason, accessTokensExpireBy } = event.data;
        if (accessTokensExpireBy === null) return current;
        return { revoked: true, reason, revokedAt: event.time, ...(accessTokensExpireBy ? { accessTokensExpireBy } : {}) };
      }
      case 'ClientDisabled':
      case 'ClientDeleted':
        return current ?? { disabled: true, disabledAt: event.time };
    }
  },
  expiresAt: (document) => {
    if ('active' in document) return document.expiresAt ? keptUntil(document.expiresAt) : undefined;
    if ('revoked' in document) return document.accessTokensExpireBy ? keptUntil(document.accessTokensExpireBy) : undefined;
    return undefined;
  },
});

/** Whether the resource server must refuse a token with this jti, issued under this grant. */
export function isRevoked(lookup: (key: string) => TokenStatusDocument | undefined, jti: string, grantId: string): boolean {
  const token = lookup(tokenStatusKey.accessToken(jti));
  if (token && 'active' in token && !token.active) return true;
  return lookup(tokenStatusKey.grant(grantId)) !== undefined;
}
