import type { Middleware } from 'koa';

/**
 * On every answer: no framing (clickjacking of login and consent), no sniffing, no
 * referrer leaking codes or request ids, and a CSP that lets pages load only themselves.
 */
export const securityHeaders = (): Middleware => async (ctx, next) => {
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'");
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  await next();
};
