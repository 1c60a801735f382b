import type { Context } from 'koa';
import { LoginFailed, LoginThrottled } from '../credentials/login-guard.js';
import { html } from '../http/html.js';

/** A failed sign-in: 401 for wrong credentials, 429 with Retry-After when throttled. False for anything else. */
export function answerLoginFailure(ctx: Context, error: unknown): boolean {
  if (error instanceof LoginThrottled) {
    ctx.status = 429;
    ctx.set('Retry-After', String(error.retryAfterSeconds));
    return true;
  }
  if (error instanceof LoginFailed) {
    ctx.status = 401;
    return true;
  }
  return false;
}

export const loginFailureNotice = (failure: Error | undefined) =>
  failure instanceof LoginThrottled
    ? html`<p class="error" role="alert">Too many failed sign-in attempts. Try again in ${Math.ceil(failure.retryAfterSeconds / 60)} minutes.</p>`
    : failure
      ? html`<p class="error" role="alert">Wrong username or password.</p>`
      : '';
