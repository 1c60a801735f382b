import type { AccessTokenIssued } from '../src/domain/events.js';
import { defineProjection } from './projection.js';

export interface AccessTokenStatus {
  grantId: string;
  clientId: string;
  userId: string;
  expiresAt: string;
  active: boolean;
}

export const tokenStatusKey = {
  accessToken: (jti: string) => `at:${jti}`,
};

/** What the resource server checks, beyond the signature, before it serves a token. */
export const tokenStatusProjection = defineProjection<AccessTokenStatus>({
  name: 'token-status',
  keysOf: (event) => (event.type === 'AccessTokenIssued' ? [tokenStatusKey.accessToken(String(event.data.jti))] : []),
  evolve: (_current, event) => {
    const token = event.data as unknown as AccessTokenIssued['data'];
    return { grantId: token.grantId, clientId: token.clientId, userId: token.userId, expiresAt: token.expiresAt, active: true };
  },
});
