import type { Context, Middleware } from 'koa';

/**
 * CORS (the Fetch standard's cross-origin reads) for what browser applications call
 * themselves: a single-page app's token requests, the metadata and keys it reads first,
 * the resource server's API. Nothing lets cookies cross origins (no Allow-Credentials):
 * these endpoints authenticate by what each request carries.
 */
export interface CorsRule {
  paths: (path: string) => boolean;
  methods: readonly string[];
  /** Request headers a page may send (beyond the ones the Fetch standard always allows). */
  headers: readonly string[];
  /** Response headers a page may read (beyond the safelisted ones). */
  expose?: readonly string[];
  /**
   * Every answer readable from any origin: public data, or an API whose one credential is
   * the bearer token the page holds. Otherwise the route decides (allowClientOrigin).
   */
  anyOrigin: boolean;
}

/**
 * Answers preflights on the rules' paths for any origin: a preflight only lets the browser
 * send the request, and what the page may then read is up to the answer's own
 * Access-Control-Allow-Origin. Answers readable by any origin say so whether or not the
 * request named one, so a shared cache never hands a page a copy without it.
 */
export const cors = (rules: readonly CorsRule[]): Middleware => async (ctx, next) => {
  const rule = rules.find((r) => r.paths(ctx.path));
  if (!rule) return next();
  const origin = ctx.get('origin');
  if (rule.anyOrigin) ctx.set('Access-Control-Allow-Origin', '*');
  else ctx.vary('Origin');
  if (origin && ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
    ctx.status = 204;
    if (!rule.anyOrigin) ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Allow-Methods', rule.methods.join(', '));
    if (rule.headers.length > 0) ctx.set('Access-Control-Allow-Headers', rule.headers.join(', '));
    ctx.set('Access-Control-Max-Age', '600');
    return;
  }
  if (rule.expose) ctx.set('Access-Control-Expose-Headers', rule.expose.join(', '));
  await next();
};

const redirectOrigins = new WeakMap<readonly string[], Set<string>>();

/** The page may read this answer if it comes from the origin of one of the client's redirect URIs. */
export function allowClientOrigin(ctx: Context, client: { redirectUris: readonly string[] }): void {
  const origin = ctx.get('origin');
  if (!origin) return;
  let origins = redirectOrigins.get(client.redirectUris);
  if (!origins) {
    origins = new Set(client.redirectUris.flatMap((uri) => (URL.canParse(uri) ? [new URL(uri).origin] : [])));
    redirectOrigins.set(client.redirectUris, origins);
  }
  if (origins.has(origin)) ctx.set('Access-Control-Allow-Origin', origin);
}
