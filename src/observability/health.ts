import type Router from '@koa/router';

export type ReadinessCheck = () => Promise<true | string>;

/**
 * `/healthz`: the process answers. `/readyz`: every check passes (the store takes
 * writes, NATS is connected, projections have caught up); 503 with what failed otherwise.
 */
export function healthRoutes(router: Router, checks: Record<string, ReadinessCheck>): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const results: Record<string, true | string> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          results[name] = await check();
        } catch (error) {
          results[name] = (error as Error)?.message ?? 'failed';
        }
      }),
    );
    const ready = Object.values(results).every((r) => r === true);
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks: results };
  });
}
