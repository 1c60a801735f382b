import type { CommandContext } from '../cqrs/command-context.js';
import { sha256 } from '../domain/crypto.js';
import { streams, type GrantRevoked } from '../domain/events.js';
import { grantDecider, type GrantCommand, type GrantState } from '../domain/grant.js';
import { InvalidGrant } from '../domain/oauth-errors.js';
import { grantIdOf, grantIdOfToken } from '../domain/token-ids.js';
import { deciderHandler, StreamCommand } from './stream-command.js';

const badRefreshToken = () => new InvalidGrant('the refresh token is invalid, expired or revoked');

/** RFC 7009: revoke an access token by its id, or a refresh token (and with it its grant). */
export class RevokeAccessToken extends StreamCommand<GrantCommand, GrantState> {
  constructor(jti: string, clientId: string, context: CommandContext) {
    super(streams.grant(grantIdOf(jti)), { kind: 'RevokeAccessToken', jti, clientId, by: `client:${clientId}`, now: context.now }, context);
  }
}
export class RevokeRefreshToken extends StreamCommand<GrantCommand, GrantState> {
  constructor(refreshToken: string, clientId: string, context: CommandContext) {
    super(
      streams.grant(grantIdOfToken(refreshToken, badRefreshToken)),
      { kind: 'RevokeRefreshToken', refreshTokenHash: sha256(refreshToken), clientId, by: `client:${clientId}` },
      context,
    );
  }
}
export class RevokeGrant extends StreamCommand<GrantCommand, GrantState> {
  constructor(grantId: string, reason: GrantRevoked['data']['reason'], by: string, userId: string | undefined, context: CommandContext) {
    super(streams.grant(grantId), { kind: 'RevokeGrant', reason, by, userId }, context);
  }
}

export const revocationHandlers = [
  deciderHandler(RevokeAccessToken, grantDecider),
  deciderHandler(RevokeRefreshToken, grantDecider),
  deciderHandler(RevokeGrant, grantDecider),
];
