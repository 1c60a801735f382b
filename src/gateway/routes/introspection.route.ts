import type Router from '@koa/router';
import { holderDisabled } from '../../../projections/disabled-holders.js';
import type { UserDocument } from '../../../projections/users.projection.js';
import { userKey } from '../../../projections/users.projection.js';
import { constantTimeEqual } from '../../domain/crypto.js';
import { accessTokenStatus } from '../../domain/grant.js';
import { InvalidClient, InvalidRequest } from '../../domain/oauth-errors.js';
import { formatScope } from '../../domain/scope.js';
import { formParams } from '../../http/form.js';
import type { AccessTokenValidator } from '../../keys/access-token-validator.js';
import type { Gateway } from '../gateway-context.js';
import { readPresentedToken } from '../presented-token.js';

/**
 * RFC 7662 token introspection, for authenticated confidential clients (resource servers
 * register as such). It reads the grant's stream, so a token revoked a moment ago is
 * already inactive here; so is one whose user or client was disabled (access tokens:
 * the validator checks that).
 */
export function introspectionRoute(router: Router, gateway: Gateway, validator: AccessTokenValidator): void {
  const usernameOf = (userId: string | null) =>
    userId ? gateway.ports.readModel.get<UserDocument>('users', userKey.byId(userId))?.username : undefined;

  router.post('/introspect', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const params = await formParams(ctx);
    const client = await gateway.clients.authenticate(ctx, params);
    if (client.tokenEndpointAuthMethod === 'none') throw new InvalidClient('introspection is for confidential clients');
    if (!params.token) throw new InvalidRequest('token is required');
    const presented = await readPresentedToken(gateway, validator, params.token);
    const now = new Date().toISOString();
    if (presented?.kind === 'access_token') {
      const status = accessTokenStatus(presented.grant, presented.jti);
      if (!status || status.revoked || presented.grant.revoked || status.expiresAt <= now) {
        ctx.body = { active: false };
        return;
      }
      const { claims } = presented;
      ctx.body = {
        active: true,
        token_type: 'Bearer',
        scope: claims.scope,
        client_id: claims.client_id,
        username: usernameOf(presented.grant.userId),
        sub: claims.sub,
        aud: claims.aud,
        iss: claims.iss,
        jti: claims.jti,
        iat: claims.iat,
        exp: claims.exp,
      };
      return;
    }
    if (presented?.kind === 'refresh_token') {
      const { grant } = presented;
      const current = grant.refreshTokenHash !== null && constantTimeEqual(grant.refreshTokenHash, presented.tokenHash);
      const disabled = holderDisabled(gateway.ports.readModel, grant.userId, grant.clientId);
      if (!current || grant.revoked || disabled || !grant.refreshTokenExpiresAt || grant.refreshTokenExpiresAt <= now) {
        ctx.body = { active: false };
        return;
      }
      ctx.body = {
        active: true,
        token_type: 'refresh_token',
        scope: formatScope(grant.scopes),
        client_id: grant.clientId,
        username: usernameOf(grant.userId),
        sub: grant.userId ?? grant.clientId,
        exp: Math.floor(Date.parse(grant.refreshTokenExpiresAt) / 1000),
      };
      return;
    }
    ctx.body = { active: false };
  });
}
