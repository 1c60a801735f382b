import type { Middleware } from 'koa';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * One line per request: method, path (never the query string, where codes and states
 * travel), status, duration and request id.
 */
export const requestLog = (logger: Logger, server: string, metrics?: Metrics): Middleware => async (ctx, next) => {
  const start = performance.now();
  try {
    await next();
  } finally {
    // The route pattern, not the path: one series per endpoint, whatever ids are in the URL.
    const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
    metrics?.httpRequests.inc({ server, route: String(route), method: ctx.method, status: String(ctx.status) });
    const line = {
      server,
      method: ctx.method,
      path: ctx.path,
      status: ctx.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      requestId: String(ctx.state.requestId),
    };
    if (logger.request) logger.request(line);
    else logger.info('request', line);
  }
};
