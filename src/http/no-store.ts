import type { Context, Middleware } from 'koa';

/** Marks an answer as not to be stored by any cache (RFC 6749 section 5.1, RFC 9111). */
export function forbidCaching(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/**
 * Every answer is `no-store` unless its route says it may be cached (the public documents:
 * JWKS, event catalog): tokens, codes, pages with forms and account data never sit in a
 * cache, and no route has to remember to say so.
 */
export const noStore = (): Middleware => async (ctx, next) => {
  forbidCaching(ctx);
  await next();
};
