import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { ReadModel } from '../read-model/read-model.js';

/** What an id_token_hint says, once it is known to be one of this server's ID tokens. */
export interface IdTokenHint {
  sub: string;
  /** The client it was issued to. */
  aud: string;
  /** The sign-in session it was issued in. */
  sid?: string;
  /** Past its exp: still this server's, but stale (RP-Initiated Logout 1.0 section 2 lets an OP take it). */
  expired: boolean;
}

/**
 * An ID token offered back as a hint (RP-Initiated Logout): signed by a key of this server
 * that still verifies, issued by this server, an ID token (`typ: JWT`, so never an access
 * token), for one client. Expiry is noted, not refused. Anything else is undefined.
 */
export async function readIdTokenHint(readModel: Pick<ReadModel, 'verificationKeys'>, issuer: string, hint: string): Promise<IdTokenHint | undefined> {
  const jwks = createLocalJWKSet({ keys: readModel.verificationKeys().map((key) => key.publicJwk) } as JSONWebKeySet);
  let payload: JWTPayload;
  let expired = false;
  try {
    ({ payload } = await jwtVerify(hint, jwks, { issuer, typ: 'JWT', algorithms: ['ES256', 'RS256'], requiredClaims: ['sub', 'aud', 'exp'] }));
  } catch (error) {
    // Thrown after the signature held: the claims are the server's own.
    if (!(error instanceof errors.JWTExpired)) return undefined;
    payload = error.payload;
    expired = true;
  }
  if (payload.iss !== issuer || typeof payload.sub !== 'string' || typeof payload.aud !== 'string') return undefined;
  return { sub: payload.sub, aud: payload.aud, ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}), expired };
}
