import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

/** A request id, taken from X-Request-Id when sane, that becomes the events' correlation id. */
export const requestId = (): Middleware => async (ctx, next) => {
  const given = ctx.get('x-request-id');
  ctx.state.requestId = /^[A-Za-z0-9._-]{8,64}$/.test(given) ? given : randomUUID();
  ctx.set('X-Request-Id', ctx.state.requestId as string);
  await next();
};
