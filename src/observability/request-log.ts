import type { Middleware } from 'koa';
import type { Logger } from './logger.js';

/**
 * One line per request: method, path (never the query string, where codes and states
 * travel), status, duration and request id.
 */
export const requestLog = (logger: Logger, server: string): Middleware => async (ctx, next) => {
  const start = performance.now();
  try {
    await next();
  } finally {
    logger.info('request', {
      server,
      method: ctx.method,
      path: ctx.path,
      status: ctx.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      requestId: ctx.state.requestId,
    });
  }
};
