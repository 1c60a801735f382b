import type Router from '@koa/router';
import type { ClientDocument } from '../../read-model/documents.js';
import { constantTimeEqual } from '../../domain/crypto.js';
import { accessTokenStatus } from '../../domain/grant.js';
import { InvalidClient, InvalidRequest } from '../../domain/oauth-errors.js';
import { formatScope } from '../../domain/scope.js';
import { formParams } from '../../http/form.js';
import type { AccessTokenValidator } from '../../keys/access-token-validator.js';
import type { Gateway } from '../gateway-context.js';
import { readPresentedToken } from '../presented-token.js';

/**
 * RFC 7662 section 4: a token is described only to callers entitled to it: the client it
 * was issued to, and resource servers registered for its audience (a confidential client
 * with `introspectionAudiences`). To anyone else it is `active: false`, as an unknown
 * token: what it is, and whose, is not theirs to learn.
 */
function mayIntrospectAccessToken(caller: ClientDocument, claims: { client_id?: unknown; aud?: unknown }): boolean {
  if (claims.client_id === caller.clientId) return true;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return audiences.some((audience) => typeof audience === 'string' && (caller.introspectionAudiences ?? []).includes(audience));
}

/**
 * RFC 7662 token introspection, for authenticated confidential clients (resource servers
 * register as such, naming their audiences). It reads the grant's stream, so a token revoked a moment ago is
 * already inactive here; so is one whose user or client was disabled (access tokens:
 * the validator checks that).
 */
export function introspectionRoute(router: Router, gateway: Gateway, validator: AccessTokenValidator): void {
  const usernameOf = (userId: string | null) =>
    userId ? gateway.ports.readModel.userById(userId)?.username : undefined;

  router.post('/introspect', async (ctx) => {
    const params = await formParams(ctx);
    const client = await gateway.clients.authenticate(ctx, params);
    if (client.tokenEndpointAuthMethod === 'none') throw new InvalidClient('introspection is for confidential clients');
    if (!params.token) throw new InvalidRequest('token is required');
    const presented = await readPresentedToken(gateway, validator, params.token);
    const now = new Date().toISOString();
    if (presented?.kind === 'access_token') {
      const status = accessTokenStatus(presented.grant, presented.jti);
      if (!status || status.revoked || presented.grant.revoked || status.expiresAt <= now || !mayIntrospectAccessToken(client, presented.claims)) {
        ctx.body = { active: false };
        return;
      }
      const { claims } = presented;
      ctx.body = {
        active: true,
        // RFC 9449 section 6.2: a bound token says so, and to which key.
        token_type: claims.cnf ? 'DPoP' : 'Bearer',
        ...(claims.cnf ? { cnf: claims.cnf } : {}),
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
      // A refresh token is its client's alone: no resource server needs to read one.
      const current = grant.clientId === client.clientId && grant.refreshTokenHash !== null && constantTimeEqual(grant.refreshTokenHash, presented.tokenHash);
      const disabled = gateway.ports.readModel.holderDisabled(grant.userId, grant.clientId);
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
