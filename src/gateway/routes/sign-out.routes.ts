import type Router from '@koa/router';
import type { Context } from 'koa';
import { EndSignInSession } from '../../commands/sign-in-session.commands.js';
import { formParams } from '../../http/form.js';
import { html, page } from '../../http/html.js';
import { browserSession, checkCsrf, csrfToken, secureCookies, setSignInCookie, signInSessionOf } from '../browser-session.js';
import { contextOf, type Gateway } from '../gateway-context.js';

const SIGN_OUT_FORMS = 'sign-out';

/** Ends the browser's sign-in session, in the store (SignInSessionEnded) and in the browser. */
export async function endSignInSession(ctx: Context, gateway: Gateway): Promise<void> {
  const signInSessionId = signInSessionOf(ctx);
  if (signInSessionId) await gateway.commandBus.execute(new EndSignInSession(signInSessionId, 'signed_out', contextOf(ctx)));
  setSignInCookie(ctx, undefined, secureCookies(gateway.ports.config));
}

/**
 * Sign-out from single sign-on: the next authorization request asks for the password
 * again. A form (with a CSRF token), so a link or an image elsewhere cannot sign anyone out.
 */
export function signOutRoutes(router: Router, gateway: Gateway): void {
  const secure = secureCookies(gateway.ports.config);
  const show = (ctx: Context, body: ReturnType<typeof html>) => {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = page('Sign out', body);
  };

  router.get('/logout', (ctx) => {
    ctx.state.browserRoute = true;
    const session = browserSession(ctx, secure, true)!;
    show(
      ctx,
      html`<h1>Sign out?</h1><p>Applications will ask for your password again the next time they send you here.</p>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${csrfToken(gateway.csrfKey, session, SIGN_OUT_FORMS)}">
<button type="submit">Sign out</button></form>`,
    );
  });

  router.post('/logout', async (ctx) => {
    ctx.state.browserRoute = true;
    const form = await formParams(ctx);
    checkCsrf(gateway.csrfKey, browserSession(ctx, secure, false), SIGN_OUT_FORMS, form.csrf);
    await endSignInSession(ctx, gateway);
    show(ctx, html`<h1>You are signed out</h1>`);
  });
}
