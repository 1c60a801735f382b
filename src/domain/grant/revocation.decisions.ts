import { constantTimeEqual } from '../crypto.js';
import type { GrantEvent } from '../events.js';
import { InvalidRequest } from '../oauth-errors.js';
import type { GrantCommand } from './grant-commands.js';
import { grantRevoked } from './grant-events.js';
import { accessTokenStatus, type GrantState } from './grant-state.js';

type Command<K extends GrantCommand['kind']> = Extract<GrantCommand, { kind: K }>;

/** RFC 7009: one access token, by its client. */
export function decideRevokeAccessToken(command: Command<'RevokeAccessToken'>, state: GrantState): GrantEvent[] {
  const token = accessTokenStatus(state, command.jti);
  // RFC 7009 section 2.2: revoking what is unknown or already revoked is a success with no
  // effect; so is another client's token, which this client must not learn about.
  // So is an expired one, which the state forgets in time.
  if (!state.grantId || !token || token.revoked || token.expiresAt <= command.now.toISOString() || state.revoked || state.clientId !== command.clientId) return [];
  return [{ type: 'TokenRevoked', data: { grantId: state.grantId, jti: command.jti, by: command.by, expiresAt: token.expiresAt } }];
}

/** RFC 7009 section 2.1: revoking a refresh token revokes the grant's access tokens too. */
export function decideRevokeRefreshToken(command: Command<'RevokeRefreshToken'>, state: GrantState): GrantEvent[] {
  if (!state.grantId || state.revoked || state.clientId !== command.clientId) return [];
  if (!state.refreshTokenHash || !constantTimeEqual(state.refreshTokenHash, command.refreshTokenHash)) return [];
  return [grantRevoked(state, 'refresh_token_revoked', command.by)];
}

/** The user (on the account page) or an administrator takes the whole grant back. */
export function decideRevokeGrant(command: Command<'RevokeGrant'>, state: GrantState): GrantEvent[] {
  if (!state.grantId) throw new InvalidRequest('unknown grant');
  if (command.userId !== undefined && command.userId !== state.userId) throw new InvalidRequest('unknown grant');
  if (state.revoked) return [];
  return [grantRevoked(state, command.reason, command.by)];
}
