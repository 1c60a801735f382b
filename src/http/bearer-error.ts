import type { Context } from 'koa';
import { InvalidDpopProof, UseDpopNonce, type OAuthError } from '../domain/oauth-errors.js';
import { DPOP_ALGORITHMS } from '../domain/dpop-proof.js';
import { MissingToken } from '../keys/access-token-validator.js';
import { forbidCaching } from './no-store.js';

const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/**
 * RFC 6750 section 3: a refused bearer token's error goes in WWW-Authenticate as well as
 * in the body; a request with no token at all gets the bare challenge. For the resource
 * server's API and the UserInfo endpoint alike. A resource server also says where its
 * metadata is (RFC 9728 section 5.1), so a client that knows nothing else finds the
 * authorization server from a 401.
 */
export function answerBearerError(ctx: Context, realm: string, error: OAuthError, extra: { scope?: string; resourceMetadata?: string } = {}): void {
  // RFC 9449 section 7.1: a request made with DPoP, or refused for its proof, is answered with the DPoP scheme.
  const dpop = /^dpop /i.test(ctx.get('authorization')) || error instanceof InvalidDpopProof || error instanceof UseDpopNonce;
  const scheme = dpop ? `DPoP algs=${quote(DPOP_ALGORITHMS.join(' '))}, ` : 'Bearer ';
  // A DPoP proof problem is about the request, not the token: 401 as RFC 9449 section 7.1 shows.
  ctx.status = dpop && error.status === 400 ? 401 : error.status;
  forbidCaching(ctx);
  const pointer = extra.resourceMetadata ? `, resource_metadata=${quote(extra.resourceMetadata)}` : '';
  if (error instanceof MissingToken) {
    ctx.set('WWW-Authenticate', `Bearer realm=${quote(realm)}${pointer}`);
    ctx.body = { error: 'invalid_token', error_description: error.description };
    return;
  }
  const params = [`realm=${quote(realm)}`, `error=${quote(error.code)}`, `error_description=${quote(error.description)}`];
  if (extra.scope) params.push(`scope=${quote(extra.scope)}`);
  if (extra.resourceMetadata) params.push(`resource_metadata=${quote(extra.resourceMetadata)}`);
  ctx.set('WWW-Authenticate', `${scheme}${params.join(', ')}`);
  ctx.body = { error: error.code, error_description: error.description };
}
