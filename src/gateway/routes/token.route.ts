import type Router from '@koa/router';
import { RedeemAuthorizationCode } from '../../commands/grant.commands.js';
import { ConcurrencyConflict } from '../../cqrs/decide-and-append.js';
import { InvalidGrant, InvalidRequest, OAuthError, UnauthorizedClient, UnsupportedGrantType } from '../../domain/oauth-errors.js';
import { formParams } from '../../http/form.js';
import { authenticateClient, InvalidClientBasic } from '../client-authentication.js';
import { contextOf, type Gateway } from '../gateway-context.js';

/**
 * Steps 4 and 5: the access token request and the access token (RFC 6749 sections
 * 4.1.3, 4.1.4 and 5). Every answer, success or error, carries Cache-Control: no-store.
 */
export function tokenRoute(router: Router, gateway: Gateway): void {
  router.post('/token', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    try {
      const params = await formParams(ctx);
      const client = authenticateClient(ctx, params, gateway.ports);
      if (!params.grant_type) throw new InvalidRequest('grant_type is required');
      if (params.grant_type !== 'authorization_code') throw new UnsupportedGrantType(`grant_type ${params.grant_type} is not supported`);
      if (!client.grantTypes.includes(params.grant_type)) throw new UnauthorizedClient('this client may not use this grant type');
      if (!params.code) throw new InvalidRequest('code is required');
      if (!params.code_verifier) throw new InvalidRequest('code_verifier is required: PKCE is mandatory');
      try {
        ctx.body = await gateway.commandBus.execute(
          new RedeemAuthorizationCode(params.code, client.clientId, params.redirect_uri, params.code_verifier, contextOf(ctx)),
        );
      } catch (error) {
        // Lost the race for this code against a concurrent redemption.
        if (error instanceof ConcurrencyConflict) throw new InvalidGrant('the authorization code is invalid, expired or already used');
        throw error;
      }
    } catch (error) {
      if (error instanceof InvalidClientBasic) ctx.set('WWW-Authenticate', 'Basic realm="token", charset="UTF-8"');
      if (error instanceof OAuthError) {
        ctx.status = error.status;
        ctx.body = { error: error.code, error_description: error.description };
        return;
      }
      throw error;
    }
  });
}
