import type Router from '@koa/router';
import type { Context } from 'koa';
import { TooManyAuthorizations } from '../../commands/authorization-limit.js';
import { AuthenticateUser, DenyConsent, GrantConsent } from '../../commands/authorization.commands.js';
import type { NewSignInSession } from '../../commands/sign-in-session.commands.js';
import type { SignedIn } from '../../domain/grant.js';
import { InvalidRequest } from '../../domain/oauth-errors.js';
import { formParams, queryParams } from '../../http/form.js';
import { html, showPage } from '../../http/html.js';
import { redirectToClient } from '../authorization-response.js';
import { stillSignedIn } from '../../credentials/sign-in-session.js';
import { sessionHash } from '../browser-session.js';
import { loadGrant, type Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';
import { findActiveClient } from '../client-lookup.js';
import { openHeldAuthorization, sealHeldAuthorization } from '../held-authorization.js';
import { answerLoginFailure, loginFailureNotice } from '../login-failure.js';
import { SCOPE_DESCRIPTIONS } from '../scope-descriptions.js';
import { deviceLoginStep } from './device-verification.routes.js';

/** What the login page signs someone in for: a grant, its client's name, and where the browser goes next. */
export interface LoginStep {
  grantId: string;
  clientName: string;
  session: string;
  csrf: string;
  next(signedIn: SignedIn): string;
}

/** Where the browser goes after consent, as a person can judge it: an origin, or a native app's private-use scheme (whose URL origin is "null"). */
const returnsTo = (redirectUri: string): string => {
  const url = new URL(redirectUri);
  return url.origin === 'null' ? url.protocol : url.origin;
};

/**
 * Step 2, user authorization: a password login, then a consent page. Both are forms
 * bound to the browser session and to the one authorization by a CSRF token; framing is
 * refused by the security headers on every page. Neither page records anything on the
 * grant: the authorization travels held by the browser (held-authorization.ts) until the
 * user's decision records it whole.
 */
export function interactionRoutes(router: Router, gateway: Gateway): void {
  const { config, readModel } = gateway.ports;
  const { browser } = gateway;

  /**
   * The authorization a login or consent link holds, opened for this browser only. Once
   * decided, its grant's stream exists and the link is spent. The login page takes it
   * before anyone signed in, the consent page after.
   */
  async function heldStep(ctx: Context, sealed: string | undefined, step: 'login' | 'consent') {
    const session = browser.session(ctx);
    const held = session ? openHeldAuthorization(gateway.authorizationRequestKey, session, sealed) : undefined;
    if (!session || !held || (step === 'consent') !== (held.signedIn !== undefined)) {
      throw new InvalidRequest('this sign-in link is not valid in this browser; start again from the application');
    }
    const { request } = held;
    const now = new Date();
    if (now.toISOString() >= request.expiresAt) throw new InvalidRequest('the authorization request has expired; start again from the application');
    if (held.signedIn && !(await stillSignedIn(gateway.ports, held.signedIn, now))) {
      throw new InvalidRequest('you are no longer signed in; start again from the application');
    }
    if ((await loadGrant(gateway, request.grantId)).status !== 'none') {
      throw new InvalidRequest('this authorization is already decided; start again from the application');
    }
    const client = await findActiveClient(gateway.ports, request.clientId);
    if (!client) throw new InvalidRequest('the application is no longer registered');
    return { held, request, session, client, csrf: browser.csrfToken(session, request.grantId) };
  }

  /**
   * What a login link signs in for: an authorization the browser holds, or a device the
   * user is connecting (device-verification.routes.ts), which goes on to its own approval.
   */
  async function loginStep(ctx: Context, sealed: string | undefined): Promise<LoginStep> {
    const device = await deviceLoginStep(gateway, ctx, sealed);
    if (device) return device;
    const { request, session, client, csrf } = await heldStep(ctx, sealed, 'login');
    return {
      grantId: request.grantId,
      clientName: client.name,
      session,
      csrf,
      // The consent page's link holds the request and who signed in: the decision records both.
      // It is held for a new browser session: one planted or learned before the sign-in is worth nothing now.
      next: (signedIn) => `/consent?request=${sealHeldAuthorization(gateway.authorizationRequestKey, browser.newSession(ctx), { request, signedIn })}`,
    };
  }

  function loginPage(ctx: Context, sealed: string, clientName: string, csrf: string, failure: Error | undefined) {
    showPage(
      ctx,
      'Sign in',
      html`<h1>Sign in</h1><p>to continue to <strong>${clientName}</strong></p>
${loginFailureNotice(failure)}
<form method="post" action="/login">
<input type="hidden" name="request" value="${sealed}"><input type="hidden" name="csrf" value="${csrf}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
    );
  }

  router.get('/login', async (ctx) => {
    ctx.state.browserRoute = true;
    const sealed = queryParams(ctx).request;
    const { clientName, csrf } = await loginStep(ctx, sealed);
    loginPage(ctx, sealed, clientName, csrf, undefined);
  });

  router.post('/login', async (ctx) => {
    ctx.state.browserRoute = true;
    const form = await formParams(ctx);
    const { grantId, session, clientName, csrf, next } = await loginStep(ctx, form.request);
    browser.checkCsrf(session, grantId, form.csrf);
    let signedIn: SignedIn;
    let signInSession: NewSignInSession | undefined;
    try {
      ({ signedIn, signInSession } = await gateway.commandBus.execute(
        new AuthenticateUser(grantId, form.username ?? '', form.password ?? '', ctx.ip, browser.signInSessionOf(ctx), contextOf(ctx)),
      ));
    } catch (error) {
      if (!answerLoginFailure(ctx, error)) throw error;
      return loginPage(ctx, form.request, clientName, csrf, error as Error);
    }
    if (signInSession) browser.setSignIn(ctx, signInSession);
    ctx.status = 303;
    ctx.redirect(next(signedIn));
  });

  router.get('/consent', async (ctx) => {
    ctx.state.browserRoute = true;
    const sealed = queryParams(ctx).request;
    const { held, request, client, csrf } = await heldStep(ctx, sealed, 'consent');
    showPage(
      ctx,
      'Allow access?',
      html`<h1>Allow <strong>${client.name}</strong> to access your account?</h1>
<p class="muted">Signed in as ${held.signedIn!.username}</p>
<p>${client.name} will be able to:</p>
<ul class="scopes">${request.scopes.map((s) => html`<li>${SCOPE_DESCRIPTIONS[s] ?? s} <code>${s}</code></li>`)}</ul>
${request.resources ? html`<p>at ${gateway.resourceServers.namesOf(request.resources).map((name, i) => html`${i > 0 ? ', ' : ''}<strong class="resource">${name}</strong>`)}</p>` : ''}
<form method="post" action="/consent">
<input type="hidden" name="request" value="${sealed}"><input type="hidden" name="csrf" value="${csrf}">
<button type="submit" name="decision" value="approve">Allow</button><button type="submit" name="decision" value="deny">Deny</button>
</form><p class="muted">You will be sent back to ${returnsTo(request.redirectUri)}</p>
${client.dynamicRegistration ? html`<p class="muted">This application registered itself: its name is its own claim, not checked by this server.</p>` : ''}`,
    );
  });

  router.post('/consent', async (ctx) => {
    ctx.state.browserRoute = true;
    const form = await formParams(ctx);
    const { held, request, session } = await heldStep(ctx, form.request, 'consent');
    browser.checkCsrf(session, request.grantId, form.csrf);
    const decided = { request, signedIn: held.signedIn! };
    const context = contextOf(ctx);
    if (form.decision !== 'approve' && form.decision !== 'deny') throw new InvalidRequest('decision must be approve or deny');
    try {
      // Step 3: the authorization code goes back to the client through the browser.
      if (form.decision === 'approve') {
        const { code } = await gateway.commandBus.execute(new GrantConsent(decided, sessionHash(session), context));
        return redirectToClient(ctx, request.redirectUri, config.issuer, { code, state: request.state });
      }
      await gateway.commandBus.execute(new DenyConsent(decided, sessionHash(session), context));
      return redirectToClient(ctx, request.redirectUri, config.issuer, { error: 'access_denied', error_description: 'the user denied access', state: request.state });
    } catch (error) {
      // The client learns at its redirect URI that it asked too often, as it would at /authorize.
      if (!(error instanceof TooManyAuthorizations)) throw error;
      return redirectToClient(ctx, request.redirectUri, config.issuer, { error: error.code, error_description: error.description, state: request.state });
    }
  });
}
