import type { Type } from '@nestjs/common';
import type { Command, ICommandHandler } from '@nestjs/cqrs';
import type { CommandContext } from '../cqrs/command-context.js';
import type { GrantType } from '../domain/events.js';
import { InvalidScope } from '../domain/oauth-errors.js';
import { isValidScopeToken, parseScope } from '../domain/scope.js';
import type { Params } from '../http/form.js';
import type { ClientDocument } from '../read-model/documents.js';
import type { ResourceServers } from './resource-indicators.js';
import type { TokenBinding, TokenResponse } from './token-issuer.js';

/** RFC 8707 at the token endpoint: the resources this token is to be for, and whom it is for when none is named. */
export interface TokenAudience {
  /** Absent: all the grant holds (or, for client_credentials, the default). */
  resources?: string[];
  defaultAudience: string;
}

/**
 * One grant type at the token endpoint (as node-oidc-provider's lib/actions/grants/*.js):
 * its request parameters and their checks, the command it sends, and that command's
 * handler. The endpoint authenticates the client, checks the client may use the grant,
 * and looks the grant up in the registry (registry.ts); adding one is a new module and a
 * line there.
 */
export interface TokenGrant {
  readonly grantType: GrantType;
  /** Reads and checks this grant's parameters (OAuthError when they are wrong): the command to send. */
  command(params: Params, client: ClientDocument, context: CommandContext, resourceServers: ResourceServers, binding: TokenBinding): Command<TokenResponse>;
  /** The handlers of its commands, for the command bus. */
  readonly handlers: ReadonlyArray<Type<ICommandHandler>>;
}

export type IdTokenAlg = NonNullable<ClientDocument['idTokenSignedResponseAlg']>;

/** What a token request proved with DPoP (RFC 9449), for its tokens: a public client's refresh token is bound too. */
export const bindingOf = (client: ClientDocument, jkt: string | undefined): TokenBinding => (jkt ? { jkt, bindRefreshToken: client.clientType === 'public' } : {});

/** How a client's ID tokens are signed: what it registered, else RS256 (OpenID Connect Registration's default). */
export const idTokenAlgOf = (client: ClientDocument): IdTokenAlg => client.idTokenSignedResponseAlg ?? 'RS256';

/** A requested scope: absent means "as before" (refresh) or "all the client may have" (client_credentials). */
export function requestedScope(params: Params): string[] | undefined {
  if (params.scope === undefined) return undefined;
  const scopes = parseScope(params.scope);
  if (scopes.length === 0 || !scopes.every(isValidScopeToken)) throw new InvalidScope('scope is malformed');
  return scopes;
}
