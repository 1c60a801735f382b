import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

const CALLER_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * A request id, which becomes the events' correlation id: always one of ours (a UUID), so
 * no caller can make its requests pass for another's or tie two together on record. A
 * sane X-Request-Id the caller sent is kept after a slash (`<ours>/<theirs>`), so both
 * sides' logs still meet; the slash never occurs in a caller's id, so the two parts never blur.
 */
export const requestId = (): Middleware => async (ctx, next) => {
  const given = ctx.get('x-request-id');
  ctx.state.requestId = CALLER_ID.test(given) ? `${randomUUID()}/${given}` : randomUUID();
  ctx.set('X-Request-Id', ctx.state.requestId as string);
  await next();
};
