import Router from '@koa/router';
import Koa from 'koa';
import { cors } from '../http/cors.js';
import { noStore } from '../http/no-store.js';
import { requestId } from '../http/request-id.js';
import { healthRoutes, type ReadinessCheck } from '../observability/health.js';
import { requestLog } from '../observability/request-log.js';
import { securityHeaders } from '../http/security-headers.js';
import { handleErrors } from './errors.js';
import type { Gateway } from './gateway-context.js';
import { accountRoutes } from './routes/account.routes.js';
import { auditRoutes } from './routes/audit.routes.js';
import { authorizeRoute } from './routes/authorize.route.js';
import { eventCatalogRoute } from './routes/event-catalog.route.js';
import { interactionRoutes } from './routes/interaction.routes.js';
import { jwksRoute } from './routes/jwks.route.js';
import { metadataRoute } from './routes/metadata.route.js';
import { signOutRoutes } from './routes/sign-out.routes.js';
import { endSessionRoute } from './routes/end-session.route.js';
import { tokenRoute } from './routes/token.route.js';
import { deviceAuthorizationRoute } from './routes/device-authorization.route.js';
import { deviceVerificationRoutes } from './routes/device-verification.routes.js';
import { registrationRoutes } from './routes/registration.routes.js';
import { revocationRoute } from './routes/revocation.route.js';
import { introspectionRoute } from './routes/introspection.route.js';
import { userInfoRoute } from './routes/userinfo.route.js';
import { PresentationProofs } from '../keys/dpop-presentation.js';
import { pushedAuthorizationRoute } from './routes/pushed-authorization.route.js';
import { AccessTokenValidator } from '../keys/access-token-validator.js';

/** The authorization server's HTTP face: thin routes that turn each flow step into a command. */
export function createGatewayApp(gateway: Gateway, scopesSupported: readonly string[], readiness: Record<string, ReadinessCheck>): Koa {
  const app = new Koa();
  // Errors are answered by handleErrors; Koa's default would print stacks.
  app.silent = true;
  // Sign-in throttling counts by address: behind a proxy that is the address the proxy saw
  // (the last X-Forwarded-For entry, the one it added), never one the client wrote itself.
  app.proxy = gateway.ports.config.trustProxy;
  app.maxIpsCount = 1;
  const router = new Router();
  healthRoutes(router, readiness);
  metadataRoute(router, gateway, scopesSupported);
  jwksRoute(router, gateway);
  authorizeRoute(router, gateway);
  pushedAuthorizationRoute(router, gateway);
  interactionRoutes(router, gateway);
  signOutRoutes(router, gateway);
  endSessionRoute(router, gateway);
  tokenRoute(router, gateway);
  deviceAuthorizationRoute(router, gateway);
  deviceVerificationRoutes(router, gateway);
  registrationRoutes(router, gateway);
  const validator = new AccessTokenValidator(gateway.ports.readModel, gateway.ports.config.issuer, undefined, undefined, undefined, new PresentationProofs());
  revocationRoute(router, gateway, validator);
  introspectionRoute(router, gateway, validator);
  userInfoRoute(router, gateway, validator);
  accountRoutes(router, gateway);
  eventCatalogRoute(router, gateway);
  auditRoutes(router, gateway);
  app.use(requestId());
  app.use(noStore());
  app.use(requestLog(gateway.logger, 'authorization-server', gateway.metrics));
  app.use(securityHeaders());
  app.use(
    cors([
      // What a single-page app reads before it starts.
      { paths: (path) => path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration' || path === '/jwks.json', methods: ['GET'], headers: [], anyOrigin: true },
      // A bearer token is UserInfo's one credential, so any origin may read what it answers to one (as the resource server's).
      { paths: (path) => path === '/userinfo', methods: ['GET', 'POST'], headers: ['authorization', 'dpop'], expose: ['WWW-Authenticate', 'DPoP-Nonce'], anyOrigin: true },
      // Readable by the origins of the requesting client's redirect URIs (the routes check).
      { paths: (path) => path === '/token' || path === '/revoke', methods: ['POST'], headers: ['authorization', 'content-type', 'dpop'], expose: ['WWW-Authenticate', 'DPoP-Nonce'], anyOrigin: false },
      // Registration (RFC 7591, 7592) from a browser app (an MCP client's web UI, say): no cookie is its credential, only the bearer tokens it holds.
      { paths: (path) => path === '/register' || path.startsWith('/register/'), methods: ['POST', 'GET', 'PUT', 'DELETE'], headers: ['authorization', 'content-type'], expose: ['WWW-Authenticate', 'Retry-After'], anyOrigin: true },
    ]),
  );
  app.use(handleErrors(gateway.logger));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  app.use(async (ctx) => {
    if (ctx.status === 404 && !ctx.body) {
      ctx.status = 404;
      ctx.body = { error: 'not_found' };
    }
  });
  return app;
}
