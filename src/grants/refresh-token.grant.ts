import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PORTS } from '../cqrs/command-bus.js';
import type { CommandContext } from '../cqrs/command-context.js';
import { sha256 } from '../domain/crypto.js';
import { InvalidGrant, InvalidRequest } from '../domain/oauth-errors.js';
import { grantIdOfToken } from '../domain/token-ids.js';
import type { Ports } from '../commands/ports.js';
import { valuesOf } from '../http/form.js';
import { requestedResources } from './resource-indicators.js';
import { idTokenAlgOf, requestedScope, type IdTokenAlg, type TokenAudience, type TokenGrant } from './token-grant.js';
import { TokenIssuer, type TokenBinding, type TokenResponse } from './token-issuer.js';

/**
 * How long a FAPI 2.0 client may ask again for a refresh whose answer it lost (FAPI 2.0
 * Security Profile 5.3.2.1): long enough for a client's retry, short enough that a stolen
 * spent token is still caught as reuse after it.
 */
export const FAPI2_REFRESH_RETRY_SECONDS = 30;

const badRefreshToken = () => new InvalidGrant('the refresh token is invalid, expired or revoked');

/** RFC 6749 section 6: a new access token, and a new refresh token in place of the one presented. */
export class RefreshAccessToken extends Command<TokenResponse> {
  /** The grant the refresh token belongs to: its id travels in the token. */
  readonly grantId: string;
  constructor(
    readonly refreshToken: string,
    readonly clientId: string,
    /** A narrower scope than granted, or undefined for the same. */
    readonly scopes: string[] | undefined,
    /** How the client's ID tokens are signed, should the grant have openid. */
    readonly idTokenAlg: IdTokenAlg,
    readonly audience: TokenAudience,
    readonly binding: TokenBinding,
    readonly context: CommandContext,
    /** A FAPI 2.0 client's: how long a refresh whose answer was lost may be asked again. */
    readonly retryWindowSeconds?: number,
  ) {
    super();
    this.grantId = grantIdOfToken(refreshToken, badRefreshToken);
  }
}

@CommandHandler(RefreshAccessToken)
export class RefreshAccessTokenHandler implements ICommandHandler<RefreshAccessToken> {
  private readonly issuer: TokenIssuer;
  constructor(@Inject(PORTS) ports: Ports) {
    this.issuer = new TokenIssuer(ports);
  }
  execute(command: RefreshAccessToken): Promise<TokenResponse> {
    return this.issuer.issue(command.grantId, command.context, true, (token, refreshToken, idToken) => ({
      kind: 'RefreshAccessToken',
      refreshTokenHash: sha256(command.refreshToken),
      clientId: command.clientId,
      scopes: command.scopes,
      resources: command.audience.resources,
      ...(command.retryWindowSeconds !== undefined ? { retryWindowSeconds: command.retryWindowSeconds } : {}),
      now: command.context.now,
      token,
      refreshToken: refreshToken!,
      // Given: this grant passes idTokenAlg.
      idToken: idToken!,
    }), {
      idTokenAlg: command.idTokenAlg,
      defaultAudience: command.audience.defaultAudience, resources: command.audience.resources,
      ...command.binding,
      // The successor of a retryable client's token is made from it, so a retry can be answered with it again.
      ...(command.retryWindowSeconds !== undefined ? { successorOf: command.refreshToken } : {}),
    });
  }
}

export const refreshTokenGrant: TokenGrant = {
  grantType: 'refresh_token',
  command(params, client, context, resourceServers, binding) {
    if (!params.refresh_token) throw new InvalidRequest('refresh_token is required');
    const audience = { resources: requestedResources(valuesOf(params, 'resource')), defaultAudience: resourceServers.defaultFor(client) };
    return new RefreshAccessToken(params.refresh_token, client.clientId, requestedScope(params), idTokenAlgOf(client), audience, binding, context, client.securityProfile === 'fapi2' ? FAPI2_REFRESH_RETRY_SECONDS : undefined);
  },
  handlers: [RefreshAccessTokenHandler],
};
