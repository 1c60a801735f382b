import type { Context, Middleware } from 'koa';
import { ConcurrencyConflict } from '../cqrs/decide-and-append.js';
import { InvalidRequest, OAuthError, TemporarilyUnavailable, TooManyRequests } from '../domain/oauth-errors.js';
import { StoreUnavailableError } from '../event-store/store-unavailable.js';
import { html, showPage } from '../http/html.js';
import { forbidCaching } from '../http/no-store.js';
import { InvalidClientBasic } from './client-authentication.js';
import type { Logger } from '../observability/logger.js';

/**
 * When to try again after a store could not be reached: soon, since the pool connects again
 * at the next request and an outage of a few seconds (a restart, a failover) is the usual one.
 */
export const STORE_RETRY_AFTER_SECONDS = 2;

/**
 * The record or the shared state could not be reached: nothing was issued, and the same
 * request may simply be sent again. Never a 500, and never the store's address or error.
 */
export class StoreUnreachable extends TemporarilyUnavailable {
  readonly retryAfterSeconds = STORE_RETRY_AFTER_SECONDS;
  constructor() {
    super('the server cannot reach its store right now; try again in a few seconds');
  }
}

/** Anything that is not an OAuth error is a server error, answered without detail. */
export function asOAuthError(error: unknown): OAuthError | undefined {
  if (error instanceof OAuthError) return error;
  if (error instanceof ConcurrencyConflict) return new TemporarilyUnavailable('too many concurrent changes, try again');
  if (error instanceof StoreUnavailableError) return new StoreUnreachable();
  // Koa's own HTTP errors (malformed URLs, ...) are client errors too.
  const status = (error as { status?: number; expose?: boolean }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return Object.assign(new InvalidRequest('malformed request'), { status });
  }
  return undefined;
}

export function errorPage(ctx: Context, status: number, title: string, detail: string): void {
  showPage(ctx, title, html`<h1>${title}</h1><p class="error">${detail}</p><p class="muted">Go back to the application and start again.</p>`, status);
}

/** JSON errors (RFC 6749 section 5.2) for API routes; an HTML page for browser routes. */
export const handleErrors = (logger: Logger): Middleware => async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    const oauth = asOAuthError(error);
    if (!oauth) {
      logger.error('request failed', { method: ctx.method, path: ctx.path, error: (error as Error)?.name, requestId: ctx.state.requestId });
    }
    const status = oauth?.status ?? 500;
    const code = oauth?.code ?? 'server_error';
    const description = oauth?.description ?? 'the server could not answer this request';
    // A route that declared itself cacheable and then failed: its error is not.
    forbidCaching(ctx);
    // RFC 9110 section 10.2.3: when to try again.
    if (oauth instanceof TooManyRequests || oauth instanceof StoreUnreachable) ctx.set('Retry-After', String(oauth.retryAfterSeconds));
    if (ctx.state.browserRoute) {
      const title = oauth instanceof StoreUnreachable ? 'Try again in a moment' : status >= 500 ? 'Something went wrong' : 'This request cannot be completed';
      errorPage(ctx, status, title, description);
      return;
    }
    ctx.status = status;
    // RFC 6749 section 5.2: a client that tried HTTP Basic and failed gets a Basic challenge.
    if (error instanceof InvalidClientBasic) ctx.set('WWW-Authenticate', 'Basic realm="oauth", charset="UTF-8"');
    ctx.body = { error: code, error_description: description };
  }
};
