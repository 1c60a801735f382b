import type Router from '@koa/router';
import type { ClientDocument } from '../../read-model/documents.js';
import { IssueClientCredentialsToken, RedeemAuthorizationCode, RefreshAccessToken } from '../../commands/grant.commands.js';
import { ConcurrencyConflict } from '../../cqrs/decide-and-append.js';
import type { GrantType } from '../../domain/events.js';
import { InvalidGrant, InvalidRequest, InvalidScope, UnauthorizedClient, UnsupportedGrantType } from '../../domain/oauth-errors.js';
import { isValidScopeToken, parseScope } from '../../domain/scope.js';
import { formParams, type Params } from '../../http/form.js';
import type { Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';

const GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];

/** A requested scope: absent means "as before" (refresh) or "all the client may have" (client_credentials). */
function requestedScope(params: Params): string[] | undefined {
  if (params.scope === undefined) return undefined;
  const scopes = parseScope(params.scope);
  if (scopes.length === 0 || !scopes.every(isValidScopeToken)) throw new InvalidScope('scope is malformed');
  return scopes;
}

/**
 * Steps 4 and 5: the access token request and the access token (RFC 6749 sections
 * 4.1.3, 4.4, 5 and 6). Every answer, success or error, is no-store (src/http/no-store.ts).
 */
export function tokenRoute(router: Router, gateway: Gateway): void {
  router.post('/token', async (ctx) => {
    const params = await formParams(ctx);
    const client = await gateway.clients.authenticateReadableByClient(ctx, params);
    const grantType = params.grant_type as GrantType | undefined;
    if (!grantType) throw new InvalidRequest('grant_type is required');
    if (!GRANT_TYPES.includes(grantType)) throw new UnsupportedGrantType(`grant_type ${grantType} is not supported`);
    if (!client.grantTypes.includes(grantType)) throw new UnauthorizedClient(`this client may not use the ${grantType} grant`);
    const context = contextOf(ctx);
    try {
      ctx.body = await gateway.commandBus.execute(tokenCommand(grantType, params, client, context));
    } catch (error) {
      // Lost every race for this code or refresh token against concurrent requests.
      if (error instanceof ConcurrencyConflict) throw new InvalidGrant('the grant is invalid, expired or already used');
      throw error;
    }
  });
}

function tokenCommand(grantType: GrantType, params: Params, client: ClientDocument, context: ReturnType<typeof contextOf>) {
  switch (grantType) {
    case 'authorization_code':
      if (!params.code) throw new InvalidRequest('code is required');
      if (!params.code_verifier) throw new InvalidRequest('code_verifier is required: PKCE is mandatory');
      return new RedeemAuthorizationCode(params.code, client.clientId, params.redirect_uri, params.code_verifier, client.grantTypes.includes('refresh_token'), context);
    case 'refresh_token':
      if (!params.refresh_token) throw new InvalidRequest('refresh_token is required');
      return new RefreshAccessToken(params.refresh_token, client.clientId, requestedScope(params), context);
    case 'client_credentials': {
      const scopes = requestedScope(params) ?? client.scopes;
      const unknown = scopes.filter((s) => !client.scopes.includes(s));
      if (unknown.length > 0) throw new InvalidScope(`scope not allowed for this client: ${unknown.join(' ')}`);
      return new IssueClientCredentialsToken(context.newId(), client.clientId, scopes, context);
    }
  }
}
