import type Router from '@koa/router';
import type { Context } from 'koa';
import { EndSignInSession } from '../../commands/sign-in-session.commands.js';
import { formParams } from '../../http/form.js';
import { html, showPage } from '../../http/html.js';
import type { Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';

const SIGN_OUT_FORMS = 'sign-out';

/**
 * Ends the browser's sign-in session, in the store (SignInSessionEnded) and in the browser,
 * whose browser session is replaced too: the forms and held authorizations made for the
 * old one (a consent page left open on a shared computer) are worth nothing after.
 */
export async function endSignInSession(ctx: Context, gateway: Gateway): Promise<void> {
  const signInSessionId = gateway.browser.signInSessionOf(ctx);
  if (signInSessionId) await gateway.commandBus.execute(new EndSignInSession(signInSessionId, 'signed_out', contextOf(ctx)));
  gateway.browser.setSignIn(ctx, undefined);
  gateway.browser.newSession(ctx);
}

/**
 * Sign-out from single sign-on: the next authorization request asks for the password
 * again. A form (with a CSRF token), so a link or an image elsewhere cannot sign anyone out.
 */
export function signOutRoutes(router: Router, gateway: Gateway): void {
  const { browser } = gateway;
  const show = (ctx: Context, body: ReturnType<typeof html>) => showPage(ctx, 'Sign out', body);

  router.get('/logout', (ctx) => {
    ctx.state.browserRoute = true;
    const session = browser.ensureSession(ctx);
    show(
      ctx,
      html`<h1>Sign out?</h1><p>Applications will ask for your password again the next time they send you here.</p>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${browser.csrfToken(session, SIGN_OUT_FORMS)}">
<button type="submit">Sign out</button></form>`,
    );
  });

  router.post('/logout', async (ctx) => {
    ctx.state.browserRoute = true;
    const form = await formParams(ctx);
    browser.checkCsrf(browser.session(ctx), SIGN_OUT_FORMS, form.csrf);
    await endSignInSession(ctx, gateway);
    show(ctx, html`<h1>You are signed out</h1>`);
  });
}
