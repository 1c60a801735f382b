import { constantTimeEqual } from '../crypto.js';
import type { GrantEvent } from '../events.js';
import { getIn } from '../grow-only-map.js';
import { InvalidGrant, InvalidRequest, InvalidScope } from '../oauth-errors.js';
import { verifiesS256 } from '../pkce.js';
import { later, type GrantCommand } from './grant-commands.js';
import { accessTokenIssued, badCode, badRefreshToken, idTokenIssued, revokeAndRefuse } from './grant-events.js';
import type { GrantState } from './grant-state.js';

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
  const events: GrantEvent[] = [
    { type: 'AuthorizationCodeRedeemed', data: { grantId: request.grantId, clientId: request.clientId } },
    accessTokenIssued(state, 'authorization_code', state.scopes, command.token, command.now),
    ...idTokenIssued(state, state.scopes, command.token, command.idToken, command.now),
  ];
  if (command.refreshToken) {
    events.push({
      type: 'RefreshTokenIssued',
      data: { grantId: request.grantId, tokenHash: command.refreshToken.hash, expiresAt: later(command.now, command.refreshToken.ttlSeconds), userId: state.userId },
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
  const scopes = command.scopes ?? state.scopes;
  const wider = scopes.filter((s) => !state.scopes.includes(s));
  if (wider.length > 0) throw new InvalidScope(`scope exceeds what was granted: ${wider.join(' ')}`);
  return [
    { type: 'RefreshTokenRotated', data: { grantId: state.grantId, previousTokenHash: state.refreshTokenHash } },
    {
      type: 'RefreshTokenIssued',
      data: { grantId: state.grantId, tokenHash: command.refreshToken.hash, expiresAt: later(command.now, command.refreshToken.ttlSeconds), ...(state.userId ? { userId: state.userId } : {}) },
    },
    accessTokenIssued(state, 'refresh_token', scopes, command.token, command.now),
    // OpenID Connect Core 12.2: a refresh may bring a new ID token, for the same user and sign-in.
    ...idTokenIssued(state, scopes, command.token, command.idToken, command.now),
  ];
}

/** RFC 6749 section 4.4: each token a grant of its own, under an id made for it. */
export function decideIssueClientCredentialsToken(command: Command<'IssueClientCredentialsToken'>, state: GrantState): GrantEvent[] {
  if (state.status !== 'none') throw new InvalidRequest('grant already exists');
  return [accessTokenIssued({ grantId: command.grantId, clientId: command.clientId, userId: null }, 'client_credentials', command.scopes, command.token, command.now)];
}
