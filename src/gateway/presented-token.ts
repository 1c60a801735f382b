import type { JWTPayload } from 'jose';
import { sha256 } from '../domain/crypto.js';
import { accessTokenStatus, type GrantState } from '../domain/grant.js';
import { OAuthError } from '../domain/oauth-errors.js';
import { grantIdOf, grantIdOfToken } from '../domain/token-ids.js';
import type { AccessTokenValidator } from '../keys/access-token-validator.js';
import { loadGrant, type Gateway } from './gateway-context.js';

export type PresentedToken =
  | { kind: 'access_token'; jti: string; grantId: string; claims: JWTPayload; grant: GrantState }
  | { kind: 'refresh_token'; grantId: string; tokenHash: string; grant: GrantState };

/**
 * What a token presented for revocation or introspection is, read from the authoritative
 * state: the grant's own stream, not a read model that could lag. Undefined when the
 * token is not one of ours, malformed, expired or badly signed.
 */
export async function readPresentedToken(gateway: Gateway, validator: AccessTokenValidator, token: string): Promise<PresentedToken | undefined> {
  const grantOf = (grantId: string) => loadGrant(gateway, grantId);
  if (token.split('.').length === 3) {
    try {
      const { jti, claims } = await validator.verify(token);
      const grantId = grantIdOf(jti);
      return { kind: 'access_token', jti, grantId, claims, grant: await grantOf(grantId) };
    } catch (error) {
      if (error instanceof OAuthError) return undefined;
      throw error;
    }
  }
  let grantId: string;
  try {
    grantId = grantIdOfToken(token, () => new Error('not a refresh token'));
  } catch {
    return undefined;
  }
  return { kind: 'refresh_token', grantId, tokenHash: sha256(token), grant: await grantOf(grantId) };
}

/**
 * Whether an access token (already validated: signature, claims) is still live in its
 * grant's own stream: not revoked on its own, its grant not revoked. The authorization
 * server keeps no token-status read model (the resource servers do): it asks the record.
 */
export async function accessTokenLive(gateway: Gateway, jti: string): Promise<boolean> {
  const grant = await loadGrant(gateway, grantIdOf(jti));
  const status = accessTokenStatus(grant, jti);
  return status !== undefined && !status.revoked && !grant.revoked;
}
