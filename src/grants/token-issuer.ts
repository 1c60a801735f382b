import type { CommandContext } from '../cqrs/command-context.js';
import { ConcurrencyConflict, decideAndAppend, type DecideOptions, type Decision } from '../cqrs/decide-and-append.js';
import { randomToken, sha256 } from '../domain/crypto.js';
import { streams, type AccessTokenIssued } from '../domain/events.js';
import { grantDecider, type GrantCommand, type GrantState, type NewAccessToken, type NewRefreshToken } from '../domain/grant.js';
import { InvalidGrant, TemporarilyUnavailable } from '../domain/oauth-errors.js';
import { formatScope } from '../domain/scope.js';
import type { Ports } from '../commands/ports.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/**
 * What every grant type's handler shares: a new access token's id and key before the
 * decision, and after it (only once the issuance is on record) the signed JWT and the
 * response. If the append failed, no token exists.
 */
export class TokenIssuer {
  constructor(private readonly ports: Ports) {}

  private newAccessToken(grantId: string): NewAccessToken {
    const key = this.ports.readModel.activeSigningKey();
    if (!key) throw new TemporarilyUnavailable('no active signing key');
    return { jti: `${grantId}.${randomToken(16)}`, kid: key.kid, audience: this.ports.config.resourceServerUrl, ttlSeconds: this.ports.config.accessTokenTtlSeconds };
  }

  private newRefreshToken(grantId: string): { token: string; hash: string; ttlSeconds: number } {
    const token = `${grantId}.${randomToken(32)}`;
    return { token, hash: sha256(token), ttlSeconds: this.ports.config.refreshTokenTtlSeconds };
  }

  /**
   * No token for a user or client disabled since the grant was given. Disabling revokes
   * the user's grants on record; this covers a grant the sweep could not see yet.
   */
  private readonly refuseDisabledHolder = (state: GrantState) => {
    if (this.ports.readModel.holderDisabled(state.userId, state.clientId)) throw new InvalidGrant('the grant\'s user or client is disabled');
  };

  /** Decides on the grant's stream with a fresh access token (and refresh token if asked), appends, then signs and answers. */
  async issue(
    grantId: string,
    context: CommandContext,
    withRefreshToken: boolean,
    decision: (token: NewAccessToken, refreshToken: NewRefreshToken | undefined) => GrantCommand,
    options: DecideOptions<GrantState> = {},
  ): Promise<TokenResponse> {
    const refresh = withRefreshToken ? this.newRefreshToken(grantId) : undefined;
    let events: Decision<GrantState>['events'];
    try {
      ({ events } = await decideAndAppend(this.ports.streams, streams.grant(grantId), grantDecider, decision(this.newAccessToken(grantId), refresh), context, {
        ...options,
        refuseIf: this.refuseDisabledHolder,
      }));
    } catch (error) {
      // Lost every race for this code or refresh token against concurrent requests: for the
      // client it was used already, whichever request won.
      if (error instanceof ConcurrencyConflict) throw new InvalidGrant('the grant is invalid, expired or already used');
      throw error;
    }
    return this.respond(events, refresh?.token);
  }

  private async respond(events: Decision<GrantState>['events'], refreshToken: string | undefined): Promise<TokenResponse> {
    const issued = events.find((e) => e.type === 'AccessTokenIssued')!.data as AccessTokenIssued['data'];
    const response: TokenResponse = {
      access_token: await this.ports.signer.sign(accessTokenClaims(this.ports.config.issuer, issued), issued.kid),
      token_type: 'Bearer',
      expires_in: Math.round((Date.parse(issued.expiresAt) - Date.parse(issued.issuedAt)) / 1000),
      scope: formatScope(issued.scopes),
    };
    if (refreshToken && events.some((e) => e.type === 'RefreshTokenIssued')) response.refresh_token = refreshToken;
    return response;
  }
}

/** RFC 9068 section 2.2; for client_credentials the client is its own subject. */
export function accessTokenClaims(issuer: string, issued: AccessTokenIssued['data']) {
  return {
    iss: issuer,
    sub: issued.userId ?? issued.clientId,
    aud: issued.audience,
    client_id: issued.clientId,
    scope: formatScope(issued.scopes),
    jti: issued.jti,
    iat: Math.floor(Date.parse(issued.issuedAt) / 1000),
    exp: Math.floor(Date.parse(issued.expiresAt) / 1000),
  };
}
