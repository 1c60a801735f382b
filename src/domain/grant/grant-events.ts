import { RefusedWithEvents } from '../decider.js';
import { constantTimeEqual } from '../crypto.js';
import { entriesOf, type GrowOnlyMap } from '../grow-only-map.js';
import type { AccessTokenIssued, AuthorizationRequested, GrantEvent, GrantRevoked, IdTokenIssued } from '../events.js';
import { InvalidGrant, InvalidRequest, InvalidTarget } from '../oauth-errors.js';
import { later, type HeldAuthorization, type NewAccessToken, type NewIdToken, type SignedIn } from './grant-commands.js';
import type { GrantState } from './grant-state.js';

/** The events and refusals the grant's decisions share. */

/** Step 2 done and step 3: the consent on record, and the code issued for it. */
export function consentAndCode(
  request: Pick<AuthorizationRequested['data'], 'grantId' | 'clientId' | 'scopes' | 'resources'>,
  userId: string,
  codeHash: string,
  expiresAt: string,
  rememberedFrom?: string,
): GrantEvent[] {
  const consent = { grantId: request.grantId, userId, clientId: request.clientId, scopes: request.scopes, ...(request.resources ? { resources: request.resources } : {}), ...(rememberedFrom ? { rememberedFrom } : {}) };
  return [
    { type: 'ConsentGranted', data: consent },
    { type: 'AuthorizationCodeIssued', data: { grantId: request.grantId, codeHash, expiresAt, userId } },
  ];
}

/**
 * The user's decision must come from the browser that made the request, before it expires,
 * and only once: it starts the grant's stream.
 */
export function decisionOn(state: GrantState, held: Required<HeldAuthorization>, browserSessionHash: string, now: Date): Required<HeldAuthorization> {
  if (state.status !== 'none') throw new InvalidRequest('this authorization was already decided');
  if (!constantTimeEqual(held.request.browserSessionHash, browserSessionHash)) {
    throw new InvalidRequest('this authorization request belongs to another browser session');
  }
  if (now.toISOString() >= held.request.expiresAt) throw new InvalidRequest('the authorization request has expired');
  return held;
}

/** Steps 1 and 2 on record, with the decision that follows them in the same append. */
export function requestAndSignIn(request: AuthorizationRequested['data'], signedIn: SignedIn): GrantEvent[] {
  return [{ type: 'AuthorizationRequested', data: request }, userAuthenticated(request.grantId, signedIn)];
}

/** Step 2: who signed in for the grant, and how. */
export const userAuthenticated = (grantId: string, { userId, username, method, signInSessionId, authTime }: SignedIn): GrantEvent => ({
  type: 'UserAuthenticated',
  data: { grantId, userId, username, method, ...(signInSessionId ? { signInSessionId } : {}), ...(authTime ? { authTime } : {}) },
});

/**
 * OpenID Connect Core 3.1.3.3: with `openid` among the token's scopes, an ID token for its
 * user comes with the access token, signed with a key of the algorithm its client
 * registered; its id is the access token's with `.id`, so nothing more needs to be random.
 */
export function idTokenIssued(state: GrantState, scopes: readonly string[], token: NewAccessToken, idToken: NewIdToken, now: Date): GrantEvent[] {
  if (!scopes.includes('openid') || !state.userId) return [];
  const data: IdTokenIssued['data'] = {
    grantId: state.grantId!,
    jti: `${token.jti}.id`,
    clientId: state.clientId!,
    userId: state.userId,
    kid: idToken.kid,
    ...(state.signIn?.signInSessionId ? { signInSessionId: state.signIn.signInSessionId } : {}),
    issuedAt: now.toISOString(),
    expiresAt: later(now, idToken.ttlSeconds),
  };
  return [{ type: 'IdTokenIssued', data }];
}

export function accessTokenIssued(
  state: Pick<GrantState, 'grantId' | 'clientId' | 'userId'>,
  grantType: AccessTokenIssued['data']['grantType'],
  scopes: string[],
  token: NewAccessToken,
  now: Date,
  audience: string | string[] = token.defaultAudience,
): AccessTokenIssued {
  return {
    type: 'AccessTokenIssued',
    data: {
      grantId: state.grantId!,
      grantType,
      jti: token.jti,
      kid: token.kid,
      clientId: state.clientId!,
      userId: state.userId,
      audience,
      ...(token.jkt ? { jkt: token.jkt } : {}),
      scopes,
      issuedAt: now.toISOString(),
      expiresAt: later(now, token.ttlSeconds),
    },
  };
}

export const grantRevoked = (state: GrantState, reason: GrantRevoked['data']['reason'], by: string): GrantRevoked => ({
  type: 'GrantRevoked',
  data: { grantId: state.grantId!, reason, by, clientId: state.clientId!, userId: state.userId, accessTokensExpireBy: lastExpiry(state.accessTokens) },
});

/** When the last of these access tokens expires; null when there are none. ISO times in UTC compare as strings. */
export function lastExpiry(accessTokens: GrowOnlyMap<string>): string | null {
  let last: string | null = null;
  for (const [, expiresAt] of entriesOf(accessTokens)) if (last === null || expiresAt > last) last = expiresAt;
  return last;
}

/** Revokes the grant and everything issued under it, recording why, then refuses. */
export function revokeAndRefuse(state: GrantState, detected: GrantEvent, reason: GrantRevoked['data']['reason'], refusal: Error): never {
  if (state.revoked) throw refusal;
  throw new RefusedWithEvents([detected, grantRevoked(state, reason, 'authorization-server')], refusal);
}

// One message for every way a code or refresh token can be bad: a caller learns nothing about which.
export const badCode = () => new InvalidGrant('the authorization code is invalid, expired or already used');
export const badRefreshToken = () => new InvalidGrant('the refresh token is invalid, expired or revoked');

/**
 * Whom an access token is for (RFC 8707 section 2.2): the resources asked for at the token
 * endpoint, each one of those the grant holds, or else all of them; a grant from before
 * resource indicators holds the client's default. Narrowed per token, never widened: the
 * grant (and its refresh token) keeps what the user consented to.
 */
export function tokenAudience(granted: readonly string[] | undefined, asked: readonly string[] | undefined, fallback: string): string | string[] {
  const allowed = granted ?? [fallback];
  const chosen = asked ?? allowed;
  if (chosen.some((resource) => !allowed.includes(resource))) throw new InvalidTarget('the resource was not granted to this client');
  return chosen.length === 1 ? chosen[0] : [...chosen];
}
