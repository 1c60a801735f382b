import type Router from '@koa/router';
import type { Context } from 'koa';
import { userOfSignInSession } from '../../credentials/sign-in-session.js';
import { InvalidRequest } from '../../domain/oauth-errors.js';
import { formParams, queryParams, type Params } from '../../http/form.js';
import { html, showPage } from '../../http/html.js';
import { readIdTokenHint, type IdTokenHint } from '../../keys/id-token-hint.js';
import type { ClientDocument } from '../../read-model/documents.js';
import type { Gateway } from '../gateway-context.js';
import { endSignInSession } from './sign-out.routes.js';

const END_SESSION_FORMS = 'end-session';
const PASSED_ON = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'] as const;

/**
 * OpenID Connect RP-Initiated Logout 1.0: a relying party sends the browser here to end the
 * user's sign-in session. `id_token_hint` (one of this server's ID tokens, expired or not)
 * names the client and the session; `post_logout_redirect_uri` must be one the client
 * registered, exactly, or nothing is redirected anywhere (a page says so); `state` goes
 * back with it. A request that cannot be trusted (no hint, a hint for another session or
 * user, an expired one) is confirmed by the user on a page first; a trusted one ends the
 * session at once. Either way the session ends on record (SignInSessionEnded) and the
 * browser gets new cookies.
 */
export function endSessionRoute(router: Router, gateway: Gateway): void {
  const { config, readModel } = gateway.ports;
  const { browser } = gateway;

  /** The request's client, hint and return address, each checked; InvalidRequest (a page, never a redirect) otherwise. */
  async function logoutRequest(params: Params) {
    const hint: IdTokenHint | undefined = params.id_token_hint ? await readIdTokenHint(readModel, config.issuer, params.id_token_hint) : undefined;
    if (params.id_token_hint && !hint) throw new InvalidRequest('id_token_hint is not an ID token of this server');
    if (hint && params.client_id !== undefined && params.client_id !== hint.aud) throw new InvalidRequest('client_id does not match the id_token_hint');
    const clientId = hint?.aud ?? params.client_id;
    const client: ClientDocument | undefined = clientId === undefined ? undefined : readModel.activeClient(clientId);
    if (clientId !== undefined && !client) throw new InvalidRequest('unknown client');
    const returnTo = params.post_logout_redirect_uri;
    if (returnTo !== undefined && !client?.postLogoutRedirectUris?.includes(returnTo)) {
      throw new InvalidRequest('post_logout_redirect_uri is not registered for this client');
    }
    return { hint, client, returnTo, state: params.state };
  }

  async function signedOut(ctx: Context, request: Awaited<ReturnType<typeof logoutRequest>>) {
    await endSignInSession(ctx, gateway);
    if (request.returnTo) {
      const url = new URL(request.returnTo);
      if (request.state !== undefined) url.searchParams.set('state', request.state);
      ctx.status = 303;
      ctx.redirect(url.toString());
      return;
    }
    showPage(ctx, 'Signed out', html`<h1>You are signed out</h1>`);
  }

  const answer = async (ctx: Context, params: Params) => {
    ctx.state.browserRoute = true;
    const request = await logoutRequest(params);
    const signInSessionId = browser.signInSessionOf(ctx);
    const user = signInSessionId ? await userOfSignInSession(gateway.ports, signInSessionId, new Date()) : undefined;
    // Trusted: a current ID token of this very session and user. Anything less asks the user.
    const trusted = !!user && !!request.hint && !request.hint.expired && request.hint.sid === signInSessionId && request.hint.sub === user.userId;
    if (!user || trusted) return signedOut(ctx, request);
    const session = browser.ensureSession(ctx);
    const clientName = request.client?.name;
    showPage(
      ctx,
      'Sign out?',
      html`<h1>Sign out?</h1><p>${clientName ? html`<strong>${clientName}</strong> asks to sign you out` : 'An application asks to sign you out'} of this server, as ${user.username}.</p>
<form method="post" action="/end_session"><input type="hidden" name="csrf" value="${browser.csrfToken(session, END_SESSION_FORMS)}">
${PASSED_ON.filter((name) => params[name] !== undefined).map((name) => html`<input type="hidden" name="${name}" value="${params[name]}">`)}
<button type="submit" name="confirm" value="yes">Sign out</button><button type="submit" name="confirm" value="no">Stay signed in</button></form>`,
    );
  };

  router.get('/end_session', (ctx) => answer(ctx, queryParams(ctx)));
  router.post('/end_session', async (ctx) => {
    const form = await formParams(ctx);
    if (form.confirm === undefined) return answer(ctx, form);
    // The user's answer on the confirmation page.
    ctx.state.browserRoute = true;
    browser.checkCsrf(browser.session(ctx), END_SESSION_FORMS, form.csrf);
    const request = await logoutRequest(form);
    if (form.confirm === 'yes') return signedOut(ctx, request);
    showPage(ctx, 'Still signed in', html`<h1>You are still signed in</h1>`);
  });
}
