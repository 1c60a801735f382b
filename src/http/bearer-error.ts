import type { Context } from 'koa';
import type { OAuthError } from '../domain/oauth-errors.js';
import { MissingToken } from '../keys/access-token-validator.js';
import { forbidCaching } from './no-store.js';

const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/**
 * RFC 6750 section 3: a refused bearer token's error goes in WWW-Authenticate as well as
 * in the body; a request with no token at all gets the bare challenge. For the resource
 * server's API and the UserInfo endpoint alike.
 */
export function answerBearerError(ctx: Context, realm: string, error: OAuthError, scope?: string): void {
  ctx.status = error.status;
  forbidCaching(ctx);
  if (error instanceof MissingToken) {
    ctx.set('WWW-Authenticate', `Bearer realm=${quote(realm)}`);
    ctx.body = { error: 'invalid_token', error_description: error.description };
    return;
  }
  const params = [`realm=${quote(realm)}`, `error=${quote(error.code)}`, `error_description=${quote(error.description)}`];
  if (scope) params.push(`scope=${quote(scope)}`);
  ctx.set('WWW-Authenticate', `Bearer ${params.join(', ')}`);
  ctx.body = { error: error.code, error_description: error.description };
}
