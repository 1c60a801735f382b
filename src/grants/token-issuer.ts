import { createHmac } from 'node:crypto';
import type { CommandContext } from '../cqrs/command-context.js';
import { ConcurrencyConflict, decideAndAppend, type DecideOptions, type Decision } from '../cqrs/decide-and-append.js';
import { randomToken, sha256 } from '../domain/crypto.js';
import { streams, type AccessTokenIssued, type IdTokenIssued } from '../domain/events.js';
import { grantDecider, type GrantCommand, type GrantState, type NewAccessToken, type NewIdToken, type NewRefreshToken } from '../domain/grant.js';
import { InvalidGrant, InvalidTarget, TemporarilyUnavailable } from '../domain/oauth-errors.js';
import { ResourceServers } from './resource-indicators.js';
import { formatScope } from '../domain/scope.js';
import type { Ports } from '../commands/ports.js';
import type { SigningKeyDocument } from '../read-model/documents.js';

/** DPoP (RFC 9449): the key the request proved, and whether the refresh token is bound to it too (a public client's). */
export interface TokenBinding {
  jkt?: string;
  bindRefreshToken?: boolean;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/**
 * What every grant type's handler shares: a new access token's id and key before the
 * decision, and after it (only once the issuance is on record) the signed JWT and the
 * response. If the append failed, no token exists.
 */
export class TokenIssuer {
  private readonly resourceServers: ResourceServers;
  constructor(private readonly ports: Ports) {
    this.resourceServers = new ResourceServers(ports.readModel, ports.config);
  }

  private newAccessToken(grantId: string, defaultAudience: string, jkt: string | undefined): NewAccessToken {
    const key = this.ports.readModel.activeSigningKey();
    if (!key) throw new TemporarilyUnavailable('no active signing key');
    return { jti: `${grantId}.${randomToken(16)}`, kid: key.kid, defaultAudience, ttlSeconds: this.ports.config.accessTokenTtlSeconds, ...(jkt ? { jkt } : {}) };
  }

  /**
   * A new refresh token: random, or for a client that may retry a refresh (FAPI 2.0), made
   * from the token it replaces under a key of the server's own, so that the same successor
   * can be given again without being stored anywhere.
   */
  private newRefreshToken(grantId: string, jkt: string | undefined, successorOf: string | undefined): { token: string; hash: string; ttlSeconds: number; jkt?: string } {
    const token = `${grantId}.${successorOf === undefined ? randomToken(32) : createHmac('sha256', this.ports.serverKeys.refreshSuccessor).update(successorOf).digest('base64url')}`;
    return { token, hash: sha256(token), ttlSeconds: this.ports.config.refreshTokenTtlSeconds, ...(jkt ? { jkt } : {}) };
  }

  /**
   * No token for a user or client disabled since the grant was given. Disabling revokes
   * the user's grants on record; this covers a grant the sweep could not see yet.
   */
  private readonly refuseDisabledHolder = (state: GrantState) => {
    if (this.ports.readModel.holderDisabled(state.userId, state.clientId)) throw new InvalidGrant('the grant\'s user or client is disabled');
  };

  /**
   * No new token for a resource server disabled since the grant was given (RFC 8707): the
   * resources asked for, else all the grant holds. The client may still narrow to the others.
   */
  private refuseDisabledResources(state: GrantState, asked: readonly string[] | undefined): void {
    const resources = asked ?? state.request?.resources ?? state.device?.resources;
    if (resources?.some((uri) => this.resourceServers.find(uri) === undefined)) throw new InvalidTarget('a resource server this token would be for is disabled');
  }

  /** The ID token a grant with `openid` gets: its lifetime, and the active key of the client's algorithm. */
  private newIdToken(alg: SigningKeyDocument['alg']): NewIdToken {
    const key = this.ports.readModel.activeSigningKey(alg);
    if (!key) throw new TemporarilyUnavailable(`no active ${alg} signing key`);
    return { ttlSeconds: this.ports.config.idTokenTtlSeconds, kid: key.kid };
  }

  /**
   * Decides on the grant's stream with a fresh access token (and refresh token if asked, and
   * with `idTokenAlg` what an ID token would be signed with), appends, then signs and answers.
   * `defaultAudience`: whom the token is for if neither grant nor request names a resource.
   */
  async issue(
    grantId: string,
    context: CommandContext,
    withRefreshToken: boolean,
    decision: (token: NewAccessToken, refreshToken: NewRefreshToken | undefined, idToken: NewIdToken | undefined) => GrantCommand,
    options: DecideOptions<GrantState> & { idTokenAlg?: SigningKeyDocument['alg']; defaultAudience: string; successorOf?: string; resources?: string[] } & TokenBinding,
  ): Promise<TokenResponse> {
    const { idTokenAlg, defaultAudience, jkt, bindRefreshToken, successorOf, resources, ...decideOptions } = options;
    const refresh = withRefreshToken ? this.newRefreshToken(grantId, bindRefreshToken ? jkt : undefined, successorOf) : undefined;
    // Only grants that can act for a user (code, refresh) may come with an ID token.
    const idToken = idTokenAlg ? this.newIdToken(idTokenAlg) : undefined;
    let decided: Decision<GrantState>;
    try {
      decided = await decideAndAppend(this.ports.streams, streams.grant(grantId), grantDecider, decision(this.newAccessToken(grantId, defaultAudience, jkt), refresh, idToken), context, {
        ...decideOptions,
        refuseIf: (state) => {
          this.refuseDisabledHolder(state);
          this.refuseDisabledResources(state, resources);
        },
      });
    } catch (error) {
      // Lost every race for this code or refresh token against concurrent requests: for the
      // client it was used already, whichever request won.
      if (error instanceof ConcurrencyConflict) throw new InvalidGrant('the grant is invalid, expired or already used');
      throw error;
    }
    return this.respond(decided, refresh?.token);
  }

  private async respond({ events, state }: Decision<GrantState>, refreshToken: string | undefined): Promise<TokenResponse> {
    const issued = events.find((e) => e.type === 'AccessTokenIssued')!.data as AccessTokenIssued['data'];
    const response: TokenResponse = {
      access_token: await this.ports.signer.sign(accessTokenClaims(this.ports.config.issuer, issued), issued.kid),
      token_type: issued.jkt ? 'DPoP' : 'Bearer',
      expires_in: Math.round((Date.parse(issued.expiresAt) - Date.parse(issued.issuedAt)) / 1000),
      scope: formatScope(issued.scopes),
    };
    // A retried refresh (FAPI 2.0) answers with the successor it gave before, made again.
    if (refreshToken && events.some((e) => e.type === 'RefreshTokenIssued' || e.type === 'RefreshTokenRetried')) response.refresh_token = refreshToken;
    const idToken = events.find((e) => e.type === 'IdTokenIssued')?.data as IdTokenIssued['data'] | undefined;
    if (idToken) response.id_token = await this.ports.signer.sign(idTokenClaims(this.ports.config.issuer, idToken, state, issued.grantType), idToken.kid, 'JWT');
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
    // RFC 9449 section 6.1: bound to the key of the DPoP proof it was requested with.
    ...(issued.jkt ? { cnf: { jkt: issued.jkt } } : {}),
  };
}

/**
 * OpenID Connect Core 2 and 3.1.3.6: who the user is (`sub`, public), for which client
 * (`aud`), and how they signed in: `auth_time` (when the password was last given),
 * `amr` (a password: `pwd`), `acr` (`1` when the password was typed for this
 * authorization, `0` when a sign-in session stood in for it), `sid` (the sign-in session,
 * for logout), and the client's `nonce` on the code's ID token (a refresh's carries none).
 */
export function idTokenClaims(issuer: string, idToken: IdTokenIssued['data'], state: GrantState, grantType: AccessTokenIssued['data']['grantType']) {
  const signIn = state.signIn;
  const nonce = grantType === 'authorization_code' ? state.request?.nonce : undefined;
  return {
    iss: issuer,
    sub: idToken.userId,
    aud: idToken.clientId,
    iat: Math.floor(Date.parse(idToken.issuedAt) / 1000),
    exp: Math.floor(Date.parse(idToken.expiresAt) / 1000),
    jti: idToken.jti,
    ...(signIn?.authTime ? { auth_time: Math.floor(Date.parse(signIn.authTime) / 1000) } : {}),
    ...(nonce ? { nonce } : {}),
    amr: ['pwd'],
    acr: signIn?.method === 'password' ? '1' : '0',
    ...(idToken.signInSessionId ? { sid: idToken.signInSessionId } : {}),
  };
}
