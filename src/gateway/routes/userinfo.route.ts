import type Router from '@koa/router';
import type { Context } from 'koa';
import { InsufficientScope, InvalidToken, OAuthError } from '../../domain/oauth-errors.js';
import { answerBearerError } from '../../http/bearer-error.js';
import type { AccessTokenValidator } from '../../keys/access-token-validator.js';
import type { Gateway } from '../gateway-context.js';
import { accessTokenLive } from '../presented-token.js';

const REALM = 'userinfo';

/**
 * OpenID Connect Core 5.3: the claims about the signed-in user that the access token's
 * scopes grant, `sub` always; `profile` gives name, preferred_username and updated_at,
 * `email` gives email and email_verified (addresses are not verified here: false). The
 * token is checked as the resource server checks it (signature, audience, expiry, disabled
 * holders), its revocation in its grant's own stream, and must carry `openid` and act for a
 * user. Errors as
 * RFC 6750 says, in WWW-Authenticate too.
 */
export function userInfoRoute(router: Router, gateway: Gateway, validator: AccessTokenValidator): void {
  const { readModel } = gateway.ports;
  const answer = async (ctx: Context) => {
    try {
      const token = await validator.validate(ctx.get('authorization') || undefined, { dpop: ctx.get('dpop') || undefined, htm: ctx.method, htu: `${gateway.ports.config.issuer}/userinfo` });
      if (!(await accessTokenLive(gateway, token.jti))) throw new InvalidToken('the access token has been revoked');
      if (!token.scopes.includes('openid')) throw new InsufficientScope('this endpoint needs the openid scope');
      // A client's own token (client_credentials) names no user.
      const user = token.sub === token.clientId ? undefined : readModel.userById(token.sub);
      if (!user) throw new InvalidToken('the access token does not act for a user');
      ctx.body = {
        sub: user.userId,
        ...(token.scopes.includes('profile') ? { name: user.name, preferred_username: user.username, ...(user.updatedAt ? { updated_at: Math.floor(Date.parse(user.updatedAt) / 1000) } : {}) } : {}),
        ...(token.scopes.includes('email') && user.email ? { email: user.email, email_verified: false } : {}),
      };
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      answerBearerError(ctx, REALM, error, { scope: error instanceof InsufficientScope ? 'openid' : undefined });
    }
  };
  router.get('/userinfo', answer);
  router.post('/userinfo', answer);
}
