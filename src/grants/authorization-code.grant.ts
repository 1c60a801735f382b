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
import { idTokenAlgOf, type IdTokenAlg, type TokenAudience, type TokenGrant } from './token-grant.js';
import { TokenIssuer, type TokenBinding, type TokenResponse } from './token-issuer.js';

const badCode = () => new InvalidGrant('the authorization code is invalid, expired or already used');

/** Step 4: the code and its PKCE verifier (RFC 6749 section 4.1.3, RFC 7636 section 4.5). */
export class RedeemAuthorizationCode extends Command<TokenResponse> {
  /** The grant the code was issued under: its id travels in the code. */
  readonly grantId: string;
  constructor(
    readonly code: string,
    readonly clientId: string,
    readonly redirectUri: string | undefined,
    readonly codeVerifier: string,
    /** Whether the client is registered for the refresh_token grant. */
    readonly withRefreshToken: boolean,
    /** How the client's ID tokens are signed, should the grant have openid. */
    readonly idTokenAlg: IdTokenAlg,
    readonly audience: TokenAudience,
    readonly binding: TokenBinding,
    readonly context: CommandContext,
  ) {
    super();
    this.grantId = grantIdOfToken(code, badCode);
  }
}

@CommandHandler(RedeemAuthorizationCode)
export class RedeemAuthorizationCodeHandler implements ICommandHandler<RedeemAuthorizationCode> {
  private readonly issuer: TokenIssuer;
  constructor(@Inject(PORTS) ports: Ports) {
    this.issuer = new TokenIssuer(ports);
  }
  execute(command: RedeemAuthorizationCode): Promise<TokenResponse> {
    return this.issuer.issue(command.grantId, command.context, command.withRefreshToken, (token, refreshToken, idToken) => ({
      kind: 'RedeemAuthorizationCode',
      codeHash: sha256(command.code),
      clientId: command.clientId,
      redirectUri: command.redirectUri,
      codeVerifier: command.codeVerifier,
      resources: command.audience.resources,
      now: command.context.now,
      token,
      refreshToken,
      // Given: this grant passes idTokenAlg.
      idToken: idToken!,
    }), { idTokenAlg: command.idTokenAlg, defaultAudience: command.audience.defaultAudience, resources: command.audience.resources, ...command.binding });
  }
}

export const authorizationCodeGrant: TokenGrant = {
  grantType: 'authorization_code',
  command(params, client, context, resourceServers, binding) {
    if (!params.code) throw new InvalidRequest('code is required');
    if (!params.code_verifier) throw new InvalidRequest('code_verifier is required: PKCE is mandatory');
    const audience = { resources: requestedResources(valuesOf(params, 'resource')), defaultAudience: resourceServers.defaultFor(client) };
    return new RedeemAuthorizationCode(params.code, client.clientId, params.redirect_uri, params.code_verifier, client.grantTypes.includes('refresh_token'), idTokenAlgOf(client), audience, binding, context);
  },
  handlers: [RedeemAuthorizationCodeHandler],
};
