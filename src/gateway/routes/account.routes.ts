import type Router from '@koa/router';
import type { Context } from 'koa';
import { RevokeGrant } from '../../commands/revocation.commands.js';
import { EndSignInSession, SignInWithPassword, type NewSignInSession } from '../../commands/sign-in-session.commands.js';
import { userOfSignInSession } from '../../credentials/sign-in-session.js';
import { InvalidRequest } from '../../domain/oauth-errors.js';
import { formParams, type Params } from '../../http/form.js';
import { html, showPage } from '../../http/html.js';
import { isSignInSessionId } from '../browser-session.js';
import type { Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';
import { answerLoginFailure, loginFailureNotice } from '../login-failure.js';
import { endSignInSession } from './sign-out.routes.js';

const ACCOUNT_FORMS = 'account';

/**
 * The user's own page: which applications may act for them, with which scopes and since
 * when, and a button to take that back: every grant the user gave that application is
 * revoked, each a GrantRevoked event that reaches resource servers over the bus. And the
 * browsers the user is signed in on, each of which they can sign out from here (a
 * browser left signed in elsewhere): SignInSessionEnded, reason signed_out_elsewhere.
 */
export function accountRoutes(router: Router, gateway: Gateway): void {
  const { readModel } = gateway.ports;
  const { browser } = gateway;
  /** The signed-in user: the browser's sign-in session, the same one authorizations use, read from the store. */
  const userOf = async (ctx: Context) => {
    const signInSessionId = browser.signInSessionOf(ctx);
    return signInSessionId ? (await userOfSignInSession(gateway.ports, signInSessionId, new Date()))?.userId : undefined;
  };

  /** The applications that can act for the user: their live grants, one entry per client, the most recent first. */
  const applicationsOf = (userId: string) => {
    const byClient = new Map<string, { clientId: string; scopes: string[]; resources: string[]; since: string; latest: string; grantIds: string[] }>();
    for (const grant of readModel.liveGrantsOf(userId, new Date())) {
      const app = byClient.get(grant.clientId) ?? { clientId: grant.clientId, scopes: [], resources: [], since: grant.grantedAt, latest: grant.grantedAt, grantIds: [] };
      app.scopes = [...new Set([...app.scopes, ...grant.scopes])].sort();
      // A grant from before resource indicators acts at the client's default resource server.
      const client = readModel.client(grant.clientId);
      app.resources = [...new Set([...app.resources, ...(grant.resources ?? (client ? [gateway.resourceServers.defaultFor(client)] : []))])];
      if (grant.grantedAt < app.since) app.since = grant.grantedAt;
      if (grant.grantedAt > app.latest) app.latest = grant.grantedAt;
      app.grantIds.push(grant.grantId);
      byClient.set(grant.clientId, app);
    }
    return [...byClient.values()].sort((a, b) => (a.latest < b.latest ? 1 : -1));
  };

  const formContext = (ctx: Context) => {
    ctx.state.browserRoute = true;
    const session = browser.ensureSession(ctx);
    return { session, csrf: browser.csrfToken(session, ACCOUNT_FORMS) };
  };
  /** A posted account form, refused unless its CSRF token belongs to this browser's session. */
  const postedForm = async (ctx: Context) => {
    const { session, csrf } = formContext(ctx);
    const form = await formParams(ctx);
    browser.checkCsrf(session, ACCOUNT_FORMS, form.csrf);
    return { form, csrf };
  };
  const show = (ctx: Context, title: string, body: ReturnType<typeof html>, status = 200) => showPage(ctx, title, body, status);
  const loginForm = (ctx: Context, csrf: string, failure: Error | undefined) =>
    show(
      ctx,
      'Your account',
      html`<h1>Sign in to your account</h1>
${loginFailureNotice(failure)}
<form method="post" action="/account/login"><input type="hidden" name="csrf" value="${csrf}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
      failure ? ctx.status : 200,
    );

  const utc = (time: string) => `${time.replace('T', ' ').slice(0, 19)} UTC`;

  router.get('/account', async (ctx) => {
    const { csrf } = formContext(ctx);
    const userId = await userOf(ctx);
    if (!userId) return loginForm(ctx, csrf, undefined);
    const user = readModel.userById(userId);
    const applications = applicationsOf(userId);
    const clientName = (clientId: string) => readModel.client(clientId)?.name ?? clientId;
    const thisBrowser = browser.signInSessionOf(ctx);
    const signInSessions = readModel.liveSignInSessionsOf(userId, new Date());
    show(
      ctx,
      'Your account',
      html`<h1>Applications that can act for you</h1><p class="muted">Signed in as ${user?.username ?? userId}</p>
${applications.length === 0 ? html`<p id="no-grants">No application can act for you.</p>` : ''}
<table id="grants">${applications.length ? html`<tr><th>Application</th><th>Scopes</th><th>At</th><th>Since</th><th></th></tr>` : ''}${applications.map(
        (app) => html`<tr data-client="${app.clientId}"><td>${clientName(app.clientId)}</td><td><code>${app.scopes.join(' ')}</code></td><td class="services">${gateway.resourceServers.namesOf(app.resources).join(', ')}</td><td>${utc(app.since)}</td>
<td><form method="post" action="/account/grants/revoke"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="client" value="${app.clientId}"><button type="submit">Revoke access</button></form></td></tr>`,
      )}</table>
<h2>Where you are signed in</h2>
<table id="sign-in-sessions"><tr><th>Signed in</th><th>Until</th><th></th></tr>${signInSessions.map((session) =>
        session.signInSessionId === thisBrowser
          ? html`<tr class="this-browser"><td>${utc(session.authTime)}</td><td>${utc(session.expiresAt)}</td><td>This browser</td></tr>`
          : html`<tr><td>${utc(session.authTime)}</td><td>${utc(session.expiresAt)}</td>
<td><form method="post" action="/account/sign-in-sessions/end"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="session" value="${session.signInSessionId}"><button type="submit">Sign out that browser</button></form></td></tr>`,
      )}</table>
<form method="post" action="/account/logout"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Sign out</button></form>`,
    );
  });

  router.post('/account/login', async (ctx) => {
    const { form, csrf } = await postedForm(ctx);
    let signInSession: NewSignInSession | undefined;
    try {
      ({ signInSession } = await gateway.commandBus.execute(
        new SignInWithPassword(form.username ?? '', form.password ?? '', ctx.ip, browser.signInSessionOf(ctx), contextOf(ctx)),
      ));
    } catch (error) {
      if (!answerLoginFailure(ctx, error)) throw error;
      return loginForm(ctx, csrf, error as Error);
    }
    if (signInSession) browser.setSignIn(ctx, signInSession);
    // A new browser session with the sign-in: one planted or learned before it is worth nothing now.
    browser.newSession(ctx);
    ctx.status = 303;
    ctx.redirect('/account');
  });

  /**
   * A change the signed-in user makes to their account from a form of the page: `act`
   * returns the position of what it recorded, and the page is shown again once the read
   * side has it, not before.
   */
  const accountChange = (path: string, act: (form: Params, userId: string, ctx: Context) => Promise<number>) =>
    router.post(path, async (ctx) => {
      const { form } = await postedForm(ctx);
      const userId = await userOf(ctx);
      if (!userId) throw new InvalidRequest('sign in first');
      const position = await act(form, userId, ctx);
      if (position > 0) await readModel.waitFor(position);
      ctx.status = 303;
      ctx.redirect('/account');
    });

  accountChange('/account/grants/revoke', async (form, userId, ctx) => {
    if (!form.client) throw new InvalidRequest('client is required');
    // Every grant the user gave this application: with single sign-on each authorization is one.
    let position = 0;
    for (const grantId of applicationsOf(userId).find((app) => app.clientId === form.client)?.grantIds ?? []) {
      ({ position } = await gateway.commandBus.execute(new RevokeGrant(grantId, 'revoked_by_user', `user:${userId}`, userId, contextOf(ctx))));
    }
    return position;
  });

  accountChange('/account/sign-in-sessions/end', async (form, userId, ctx) => {
    if (!isSignInSessionId(form.session)) throw new InvalidRequest('session is required');
    // The decider refuses a session that is not this user's: the id alone proves nothing.
    const { position } = await gateway.commandBus.execute(new EndSignInSession(form.session, 'signed_out_elsewhere', contextOf(ctx), userId));
    return position;
  });

  router.post('/account/logout', async (ctx) => {
    await postedForm(ctx);
    await endSignInSession(ctx, gateway);
    ctx.status = 303;
    ctx.redirect('/account');
  });
}
