import Router from '@koa/router';
import Koa from 'koa';
import type { Metrics } from './metrics.js';

/** The admin port: Prometheus metrics, apart from the public ports. */
export function createAdminApp(metrics: Metrics): Koa {
  const app = new Koa();
  app.silent = true;
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  app.use(router.routes());
  return app;
}
