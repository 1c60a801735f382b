import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import type { TokenReadModel } from '../read-model/read-model.js';
import { InsufficientScope, OAuthError } from '../domain/oauth-errors.js';
import { cors } from '../http/cors.js';
import { answerBearerError } from '../http/bearer-error.js';
import { noStore } from '../http/no-store.js';
import { requestId } from '../http/request-id.js';
import { healthRoutes, type ReadinessCheck } from '../observability/health.js';
import { requestLog } from '../observability/request-log.js';
import type { Metrics } from '../observability/metrics.js';
import { securityHeaders } from '../http/security-headers.js';
import type { Logger } from '../observability/logger.js';
import { AccessTokenValidator, type ValidatedToken } from '../keys/access-token-validator.js';
import { ItemsStore } from './items.js';
import { PresentationProofs } from '../keys/dpop-presentation.js';
import { protectedResourceMetadataRoute, protectedResourceMetadataUrl } from './protected-resource-metadata.js';

const REALM = 'resource-server';

/**
 * Steps 6 and 7: the client calls with a bearer token and the resource server answers,
 * having checked the token itself against its projections.
 */
export function createResourceServerApp(
  readModel: TokenReadModel,
  issuer: string,
  audience: string,
  logger: Logger,
  readiness: Record<string, ReadinessCheck>,
  metrics?: Metrics,
): Koa {
  // Its identity is its resource indicator: tokens for another resource server are refused here.
  const validator = new AccessTokenValidator(readModel, issuer, audience, undefined, undefined, new PresentationProofs());
  // The URL a DPoP proof names (htu): this server's public origin, as its resource indicator has it.
  const origin = new URL(audience).origin;
  const resourceMetadata = protectedResourceMetadataUrl(audience);
  const items = new ItemsStore();
  const app = new Koa();
  app.silent = true;
  const router = new Router();

  const protect = (scope: string) => async (ctx: Context, next: () => Promise<unknown>) => {
    let token: ValidatedToken;
    try {
      token = await validator.validate(ctx.get('authorization') || undefined, { dpop: ctx.get('dpop') || undefined, htm: ctx.method, htu: `${origin}${ctx.path}` });
      if (!token.scopes.includes(scope)) throw new InsufficientScope(`this resource needs the ${scope} scope`);
    } catch (error) {
      if (error instanceof OAuthError) return answerBearerError(ctx, REALM, error, { scope, resourceMetadata });
      throw error;
    }
    ctx.state.token = token;
    await next();
  };

  healthRoutes(router, readiness);
  protectedResourceMetadataRoute(router, audience, issuer, 'Profile and items API');
  /**
   * The user a token acts for; none for a client's own token (client_credentials: its
   * `sub` is its client_id, RFC 9068 section 5), whatever user that id might also name.
   */
  const userOf = (token: ValidatedToken) => (token.sub === token.clientId ? undefined : readModel.userById(token.sub));
  router.get('/api/profile', protect('profile'), (ctx) => {
    const token = ctx.state.token as ValidatedToken;
    const user = userOf(token);
    ctx.body = { sub: token.sub, username: user?.username ?? null, name: user?.name ?? null, email: user?.email ?? null };
  });
  router.get('/api/items', protect('items:read'), (ctx) => {
    const token = ctx.state.token as ValidatedToken;
    const user = userOf(token);
    // A client's own items are kept apart from any user's, under a key no user id can take.
    ctx.body = { items: token.sub === token.clientId ? items.list(`client:${token.clientId}`, token.clientId) : items.list(token.sub, user?.username ?? token.sub) };
  });

  app.use(requestId());
  app.use(noStore());
  app.use(requestLog(logger, 'resource-server', metrics));
  app.use(securityHeaders());
  // A bearer token is the API's one credential, so any origin may read what it answers to one.
  app.use(
    cors([
      { paths: (path) => path.startsWith('/api/'), methods: ['GET'], headers: ['authorization', 'dpop'], expose: ['WWW-Authenticate'], anyOrigin: true },
      // Public metadata a browser-based agent reads after a 401 (RFC 9728).
      { paths: (path) => path.startsWith('/.well-known/oauth-protected-resource'), methods: ['GET'], headers: [], anyOrigin: true },
    ]),
  );
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (typeof status === 'number' && status < 500) {
        ctx.status = status;
        ctx.body = { error: 'invalid_request' };
        return;
      }
      logger.error('resource request failed', { path: ctx.path, error: (error as Error)?.name, requestId: ctx.state.requestId });
      ctx.status = 500;
      ctx.body = { error: 'server_error' };
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
