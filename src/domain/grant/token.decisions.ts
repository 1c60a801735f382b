import { constantTimeEqual } from '../crypto.js';
import type { GrantEvent } from '../events.js';
import { getIn } from '../grow-only-map.js';
import { InvalidGrant, InvalidRequest, InvalidScope } from '../oauth-errors.js';
import { verifiesS256 } from '../pkce.js';
import { later, type GrantCommand } from './grant-commands.js';
import { accessTokenIssued, badCode, badRefreshToken, idTokenIssued, revokeAndRefuse, tokenAudience } from './grant-events.js';
import type { GrantState } from './grant-state.js';
import { retryOfSpentToken } from './refresh-retry.decisions.js';

type Command<K extends GrantCommand['kind']> = Extract<GrantCommand, { kind: K }>;

/** Step 4 (RFC 6749 section 4.1.3, RFC 7636 section 4.6): the code, once, by its client, with its verifier. */
export function decideRedeemAuthorizationCode(command: Command<'RedeemAuthorizationCode'>, state: GrantState): GrantEvent[] {
  const request = state.request;
  if (!request || !state.codeHash || !state.codeExpiresAt || !state.userId) throw badCode();
  if (!constantTimeEqual(state.codeHash, command.codeHash)) throw badCode();
  if (state.status === 'redeemed' && request.clientId === command.clientId) {
    // RFC 6749 section 4.1.2: a code used twice revokes what was issued for it.
    revokeAndRefuse(state, { type: 'AuthorizationCodeReplayDetected', data: { grantId: request.grantId, clientId: command.clientId } }, 'authorization_code_replay', badCode());
  }
  if (state.status !== 'code_issued' || state.revoked) throw badCode();
  if (command.now.toISOString() >= state.codeExpiresAt) throw badCode();
  if (request.clientId !== command.clientId) throw badCode();
  const redirectOk = request.redirectUriSent
    ? command.redirectUri === request.redirectUri
    : command.redirectUri === undefined || command.redirectUri === request.redirectUri;
  if (!redirectOk) throw new InvalidGrant('redirect_uri does not match the authorization request');
  if (!verifiesS256(command.codeVerifier, request.codeChallenge)) throw new InvalidGrant('code_verifier does not match the code_challenge');
  // RFC 9449 section 10: a code bound with dpop_jkt is redeemed only with a proof by that key.
  if (request.dpopJkt !== undefined && request.dpopJkt !== command.token.jkt) throw new InvalidGrant('the code is bound to another DPoP key');
  const events: GrantEvent[] = [
    { type: 'AuthorizationCodeRedeemed', data: { grantId: request.grantId, clientId: request.clientId } },
    accessTokenIssued(state, 'authorization_code', state.scopes, command.token, command.now, tokenAudience(request.resources, command.resources, command.token.defaultAudience)),
    ...idTokenIssued(state, state.scopes, command.token, command.idToken, command.now),
  ];
  if (command.refreshToken) {
    events.push({
      type: 'RefreshTokenIssued',
      data: { grantId: request.grantId, tokenHash: command.refreshToken.hash, expiresAt: later(command.now, command.refreshToken.ttlSeconds), userId: state.userId, ...(command.refreshToken.jkt ? { jkt: command.refreshToken.jkt } : {}) },
    });
  }
  return events;
}

/** RFC 6749 section 6 with rotation (RFC 9700 section 4.14): a spent token presented again is theft. */
export function decideRefreshAccessToken(command: Command<'RefreshAccessToken'>, state: GrantState): GrantEvent[] {
  if (!state.grantId || state.clientId !== command.clientId) throw badRefreshToken();
  // A map lookup, not a constant-time comparison with each: these are SHA-256 hashes of
  // 256-bit random tokens, so timing could only hint at a hash, never at a token.
  const spentUntil = getIn(state.spentRefreshTokenHashes, command.refreshTokenHash);
  const retried = spentUntil === undefined ? undefined : retryOfSpentToken(command, state);
  if (retried) return retried;
  // Whether or not the state has forgotten it yet, a spent token past its expiry is only expired.
  if (spentUntil !== undefined && command.now.toISOString() < spentUntil) {
    revokeAndRefuse(
      state,
      { type: 'RefreshTokenReuseDetected', data: { grantId: state.grantId, clientId: command.clientId, tokenHash: command.refreshTokenHash } },
      'refresh_token_reuse',
      badRefreshToken(),
    );
  }
  if (state.revoked || !state.refreshTokenHash || !state.refreshTokenExpiresAt) throw badRefreshToken();
  if (!constantTimeEqual(state.refreshTokenHash, command.refreshTokenHash)) throw badRefreshToken();
  if (command.now.toISOString() >= state.refreshTokenExpiresAt) throw badRefreshToken();
  // RFC 9449 section 5: a bound refresh token refreshes only with a proof by its key, and its successor stays bound to it.
  if (state.refreshTokenJkt !== null && state.refreshTokenJkt !== command.token.jkt) throw new InvalidGrant('the refresh token is bound to another DPoP key');
  const boundTo = state.refreshTokenJkt ?? command.refreshToken.jkt;
  const scopes = command.scopes ?? state.scopes;
  const wider = scopes.filter((s) => !state.scopes.includes(s));
  if (wider.length > 0) throw new InvalidScope(`scope exceeds what was granted: ${wider.join(' ')}`);
  const audience = tokenAudience(state.request?.resources, command.resources, command.token.defaultAudience);
  return [
    {
      type: 'RefreshTokenRotated',
      data: {
        grantId: state.grantId,
        previousTokenHash: state.refreshTokenHash,
        ...(command.retryWindowSeconds !== undefined ? { retry: { until: later(command.now, command.retryWindowSeconds), ...(command.token.jkt ? { jkt: command.token.jkt } : {}) } } : {}),
      },
    },
    {
      type: 'RefreshTokenIssued',
      data: { grantId: state.grantId, tokenHash: command.refreshToken.hash, expiresAt: later(command.now, command.refreshToken.ttlSeconds), ...(state.userId ? { userId: state.userId } : {}), ...(boundTo ? { jkt: boundTo } : {}) },
    },
    accessTokenIssued(state, 'refresh_token', scopes, command.token, command.now, audience),
    // OpenID Connect Core 12.2: a refresh may bring a new ID token, for the same user and sign-in.
    ...idTokenIssued(state, scopes, command.token, command.idToken, command.now),
  ];
}

/** RFC 6749 section 4.4: each token a grant of its own, under an id made for it. */
export function decideIssueClientCredentialsToken(command: Command<'IssueClientCredentialsToken'>, state: GrantState): GrantEvent[] {
  if (state.status !== 'none') throw new InvalidRequest('grant already exists');
  return [accessTokenIssued({ grantId: command.grantId, clientId: command.clientId, userId: null }, 'client_credentials', command.scopes, command.token, command.now, tokenAudience(command.resources, undefined, command.token.defaultAudience))];
}

