import type Router from '@koa/router';
import { asyncApiDocument } from '../../domain/asyncapi.js';
import type { Gateway } from '../gateway-context.js';

/** The event catalog for downstream services, as AsyncAPI 3.0. */
export function eventCatalogRoute(router: Router, gateway: Gateway): void {
  const document = asyncApiDocument({ natsUrl: gateway.ports.config.natsUrl, version: '1' });
  router.get('/events/asyncapi.json', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = document;
  });
}
