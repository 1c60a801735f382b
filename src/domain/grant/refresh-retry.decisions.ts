import type { GrantEvent } from '../events.js';
import type { GrantCommand } from './grant-commands.js';
import { accessTokenIssued, idTokenIssued, tokenAudience } from './grant-events.js';
import type { GrantState } from './grant-state.js';

type Refresh = Extract<GrantCommand, { kind: 'RefreshAccessToken' }>;

/**
 * FAPI 2.0 Security Profile section 5.3.2.1: a client that lost the answer to a refresh
 * may ask again with the token it just spent. For a FAPI client only, and only once,
 * within the window recorded at the rotation, with the same DPoP key, and while the
 * successor has not been used: the same successor again (it is derived from the spent
 * token, so it can be made again without being stored) and a new access token. Anything
 * else is reuse, and revokes the grant as for every other client.
 */
export function retryOfSpentToken(command: Refresh, state: GrantState): GrantEvent[] | undefined {
  const retry = state.refreshRetry;
  if (command.retryWindowSeconds === undefined || !retry || retry.used || state.revoked || !state.grantId) return undefined;
  if (retry.previousTokenHash !== command.refreshTokenHash || command.now.toISOString() >= retry.until) return undefined;
  if ((retry.jkt ?? undefined) !== command.token.jkt) return undefined;
  // The successor made again from the spent token must be the one still current (unused).
  if (state.refreshTokenHash !== command.refreshToken.hash) return undefined;
  return [
    { type: 'RefreshTokenRetried', data: { grantId: state.grantId, previousTokenHash: command.refreshTokenHash } },
    accessTokenIssued(state, 'refresh_token', state.scopes, command.token, command.now, tokenAudience(state.request?.resources, undefined, command.token.defaultAudience)),
    ...idTokenIssued(state, state.scopes, command.token, command.idToken, command.now),
  ];
}

