import type Router from '@koa/router';
import type { Context } from 'koa';
import { DecideDeviceAuthorization } from '../../commands/device-authorization.commands.js';
import { stillSignedIn, userOfSignInSession } from '../../credentials/sign-in-session.js';
import { UserCodeGuessesThrottled } from '../../credentials/device-limits.js';
import type { SignedIn } from '../../domain/grant.js';
import { awaitsUserWithCode, badUserCode } from '../../domain/grant/device.decisions.js';
import { InvalidRequest } from '../../domain/oauth-errors.js';
import { grantIdOfUserCode, normalizeUserCode, userCodeHash } from '../../domain/user-code.js';
import { formParams, queryParams } from '../../http/form.js';
import { html, showPage } from '../../http/html.js';
import { countedAs } from '../../http/client-address.js';
import { loadGrant, type Gateway } from '../gateway-context.js';
import { openHeldDeviceVerification, sealHeldDeviceVerification, type HeldDeviceVerification } from '../held-device-verification.js';
import { contextOf } from '../request-context.js';
import { SCOPE_DESCRIPTIONS } from '../scope-descriptions.js';
import { VERIFICATION_PATH } from './device-authorization.route.js';
import type { LoginStep } from './interaction.routes.js';

/** The CSRF purpose of the code form (the approval form's is its grant id, as the login's and consent's). */
const CODE_FORM = 'device';

/**
 * RFC 8628 section 3.3, the verification page: the user enters (or, from
 * verification_uri_complete, confirms) the code the device shows, signs in with the login
 * page of the code flow unless this browser is signed in already, sees the application and
 * its scopes, and approves or denies. Every form is bound to the browser session by a CSRF
 * token, as the login and consent pages are; the code travels on from the code form only
 * as its keyed hash, sealed in the links (held-device-verification.ts). A code that is
 * unknown, expired or already decided gets the one same answer, and wrong codes are
 * throttled by address (src/credentials/user-code-guesses.ts).
 */
export function deviceVerificationRoutes(router: Router, gateway: Gateway): void {
  const { config, readModel, userCodeGuesses } = gateway.ports;
  const { browser } = gateway;
  const key = gateway.ports.serverKeys.deviceUserCode;
  const sealingKey = gateway.authorizationRequestKey;

  function codeForm(ctx: Context, typed: string, csrf: string, problem?: string, status?: number) {
    showPage(
      ctx,
      'Connect a device',
      html`<h1>Connect a device</h1>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<p>Enter the code your device shows. Only do this for a device you started signing in on yourself.</p>
<form method="post" action="${VERIFICATION_PATH}"><input type="hidden" name="csrf" value="${csrf}">
<label for="user_code">Code</label><input type="text" id="user_code" name="user_code" value="${typed}" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus>
<button type="submit">Continue</button></form>`,
      status,
    );
  }

  router.get(VERIFICATION_PATH, async (ctx) => {
    ctx.state.browserRoute = true;
    const session = browser.ensureSession(ctx);
    // From verification_uri_complete: shown to be checked against the device before going on (RFC 8628 section 3.3.1).
    const typed = (queryParams(ctx).user_code ?? '').slice(0, 64);
    codeForm(ctx, typed, browser.csrfToken(session, CODE_FORM));
  });

  router.post(VERIFICATION_PATH, async (ctx) => {
    ctx.state.browserRoute = true;
    const form = await formParams(ctx);
    const session = browser.session(ctx);
    browser.checkCsrf(session, CODE_FORM, form.csrf);
    const csrf = browser.csrfToken(session!, CODE_FORM);
    const now = new Date();
    const typed = (form.user_code ?? '').slice(0, 64);
    // An IPv6 address by its /64: each of a subscriber's 2^64 addresses would have guesses of its own.
    const address = countedAs(ctx.ip);
    try {
      await userCodeGuesses.check(address, now);
    } catch (error) {
      if (!(error instanceof UserCodeGuessesThrottled)) throw error;
      ctx.set('Retry-After', String(error.retryAfterSeconds));
      return codeForm(ctx, typed, csrf, `Too many wrong codes. Try again in ${Math.ceil(error.retryAfterSeconds / 60)} minutes.`, 429);
    }
    const code = normalizeUserCode(typed);
    const hash = code && userCodeHash(key, code);
    const grant = code ? await loadGrant(gateway, grantIdOfUserCode(key, code)) : undefined;
    if (!hash || !grant || !awaitsUserWithCode(grant, hash, now) || !readModel.activeClient(grant.clientId!)) {
      await userCodeGuesses.recordFailure(address, now);
      return codeForm(ctx, typed, csrf, 'That code is not valid, or has expired. Check the code on your device.', 400);
    }
    const held: HeldDeviceVerification = { grantId: grant.grantId!, userCodeHash: hash };
    const signedIn = await signedInHere(ctx, now);
    ctx.status = 303;
    // Not signed in: the login page of the code flow signs in for this device, then sends the browser on to the approval.
    if (!signedIn) return ctx.redirect(`/login?request=${sealHeldDeviceVerification(sealingKey, session!, held)}`);
    ctx.redirect(`${VERIFICATION_PATH}/approve?request=${sealHeldDeviceVerification(sealingKey, session!, { ...held, signedIn })}`);
  });

  /** The user this browser's sign-in session signs in now, as /authorize lets it stand in for the password. */
  async function signedInHere(ctx: Context, now: Date): Promise<SignedIn | undefined> {
    const signInSessionId = config.signInSessionTtlSeconds > 0 ? browser.signInSessionOf(ctx) : undefined;
    const user = signInSessionId ? await userOfSignInSession(gateway.ports, signInSessionId, now) : undefined;
    return user && signInSessionId ? { userId: user.userId, username: user.username, method: 'session', signInSessionId, authTime: user.authTime } : undefined;
  }

  /** The approval link, opened for this browser, someone signed in still, the device still waiting for this code. */
  async function approvalStep(ctx: Context, sealed: string | undefined) {
    const session = browser.session(ctx);
    const held = session ? openHeldDeviceVerification(sealingKey, session, sealed) : undefined;
    if (!session || !held?.signedIn) throw new InvalidRequest('this link is not valid in this browser; enter the code again');
    const now = new Date();
    if (!(await stillSignedIn(gateway.ports, held.signedIn, now))) throw new InvalidRequest('you are no longer signed in; enter the code again');
    const grant = await loadGrant(gateway, held.grantId);
    if (!awaitsUserWithCode(grant, held.userCodeHash, now)) throw badUserCode();
    const client = readModel.activeClient(grant.clientId!);
    if (!client) throw badUserCode();
    return { held: held as Required<HeldDeviceVerification>, session, grant, client, csrf: browser.csrfToken(session, held.grantId) };
  }

  router.get(`${VERIFICATION_PATH}/approve`, async (ctx) => {
    ctx.state.browserRoute = true;
    const sealed = queryParams(ctx).request;
    const { held, grant, client, csrf } = await approvalStep(ctx, sealed);
    showPage(
      ctx,
      'Allow access?',
      html`<h1>Allow <strong>${client.name}</strong> on your device to access your account?</h1>
<p class="muted">Signed in as ${held.signedIn.username}</p>
<p>${client.name} will be able to:</p>
<ul class="scopes">${grant.scopes.map((s) => html`<li>${SCOPE_DESCRIPTIONS[s] ?? s} <code>${s}</code></li>`)}</ul>
<p>Only allow this if you started signing in to ${client.name} on a device yourself, and it shows the code you entered.</p>
<form method="post" action="${VERIFICATION_PATH}/approve">
<input type="hidden" name="request" value="${sealed}"><input type="hidden" name="csrf" value="${csrf}">
<button type="submit" name="decision" value="approve">Allow</button><button type="submit" name="decision" value="deny">Deny</button>
</form>`,
    );
  });

  router.post(`${VERIFICATION_PATH}/approve`, async (ctx) => {
    ctx.state.browserRoute = true;
    const form = await formParams(ctx);
    const { held, session, client } = await approvalStep(ctx, form.request);
    browser.checkCsrf(session, held.grantId, form.csrf);
    if (form.decision !== 'approve' && form.decision !== 'deny') throw new InvalidRequest('decision must be approve or deny');
    const approve = form.decision === 'approve';
    await gateway.commandBus.execute(new DecideDeviceAuthorization(held.grantId, held.userCodeHash, held.signedIn, approve, contextOf(ctx)));
    showPage(
      ctx,
      approve ? 'Device connected' : 'Device denied',
      approve
        ? html`<h1 id="device-approved">Done</h1><p>${client.name} on your device can now access your account. You can close this page and go back to your device.</p>`
        : html`<h1 id="device-denied">Denied</h1><p>${client.name} on your device was not given access. You can close this page.</p>`,
    );
  });

}

/**
 * What a login link holds when it signs in for a device (sealed by the code form above):
 * the step the login page shows and then leaves for the approval. Undefined when the link
 * is no device's: it is then the code flow's.
 */
export async function deviceLoginStep(gateway: Gateway, ctx: Context, sealed: string | undefined): Promise<LoginStep | undefined> {
  const session = gateway.browser.session(ctx);
  const held = session ? openHeldDeviceVerification(gateway.authorizationRequestKey, session, sealed) : undefined;
  if (!session || !held || held.signedIn) return undefined;
  const grant = await loadGrant(gateway, held.grantId);
  if (!awaitsUserWithCode(grant, held.userCodeHash, new Date())) throw badUserCode();
  const client = gateway.ports.readModel.activeClient(grant.clientId!);
  if (!client) throw badUserCode();
  return {
    grantId: held.grantId,
    clientName: client.name,
    session,
    csrf: gateway.browser.csrfToken(session, held.grantId),
    // Held for a new browser session, as the consent link is: one planted or learned before the sign-in is worth nothing now.
    next: (signedIn) => `${VERIFICATION_PATH}/approve?request=${sealHeldDeviceVerification(gateway.authorizationRequestKey, gateway.browser.newSession(ctx), { ...held, signedIn })}`,
  };
}
