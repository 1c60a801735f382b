import type Router from '@koa/router';
import { RevokeAccessToken, RevokeRefreshToken } from '../../commands/revocation.commands.js';
import { InvalidRequest } from '../../domain/oauth-errors.js';
import { formParams } from '../../http/form.js';
import type { AccessTokenValidator } from '../../keys/access-token-validator.js';
import type { Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';
import { readPresentedToken } from '../presented-token.js';

/**
 * RFC 7009 token revocation. Any authenticated client (public ones by client_id) may
 * revoke its own tokens; an unknown, expired or foreign token is a 200 with no effect,
 * so the answer tells nothing about other clients' tokens. Revoking a refresh token
 * revokes its whole grant.
 */
export function revocationRoute(router: Router, gateway: Gateway, validator: AccessTokenValidator): void {
  router.post('/revoke', async (ctx) => {
    const params = await formParams(ctx);
    const client = await gateway.clients.authenticateReadableByClient(ctx, params);
    if (!params.token) throw new InvalidRequest('token is required');
    const presented = await readPresentedToken(gateway, validator, params.token);
    if (presented?.kind === 'access_token') {
      await gateway.commandBus.execute(new RevokeAccessToken(presented.jti, client.clientId, contextOf(ctx)));
    } else if (presented?.kind === 'refresh_token') {
      await gateway.commandBus.execute(new RevokeRefreshToken(params.token, client.clientId, contextOf(ctx)));
    }
    ctx.status = 200;
    ctx.body = '';
  });
}
