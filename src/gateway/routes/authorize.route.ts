import type Router from '@koa/router';
import { RequestAuthorization } from '../../commands/authorization.commands.js';
import { InvalidRequest, OAuthError } from '../../domain/oauth-errors.js';
import { sessionMayStandIn } from '../../domain/prompt.js';
import { readAuthorizationParameters, redirectUriOf, singleOf } from '../authorization-parameters.js';
import { mustPush, openPushedRequest } from '../pushed-authorization-request.js';
import { redirectToClient } from '../authorization-response.js';
import { sessionHash } from '../browser-session.js';
import { asOAuthError, errorPage } from '../errors.js';
import type { Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';
import { findActiveClient } from '../client-lookup.js';
import { MAX_SEALED_LENGTH, sealHeldAuthorization } from '../held-authorization.js';

/**
 * Step 1, the authorization request (RFC 6749 section 4.1.1, RFC 7636). Until the
 * client and its redirect URI are known good, errors are shown to the user and never
 * redirected: a redirect to an unchecked URI would make this an open redirector.
 */
export function authorizeRoute(router: Router, gateway: Gateway): void {
  const { config } = gateway.ports;
  router.get('/authorize', async (ctx) => {
    ctx.state.browserRoute = true;
    let search = new URLSearchParams(ctx.querystring);
    let clientId: string | undefined;
    let requestUri: string | undefined;
    try {
      clientId = singleOf(search)('client_id');
      requestUri = singleOf(search)('request_uri');
    } catch (error) {
      return errorPage(ctx, 400, 'Invalid authorization request', (error as OAuthError).description);
    }
    const client = clientId ? await findActiveClient(gateway.ports, clientId) : undefined;
    if (!client) return errorPage(ctx, 400, 'Unknown application', 'The application that sent you here is not registered with this server.');
    // RFC 9126 section 4: with a request_uri, the pushed parameters are the request, and only they.
    let pushedId: string | undefined;
    if (requestUri !== undefined) {
      const pushed = openPushedRequest(gateway.pushedRequestKey, client.clientId, requestUri, Date.now());
      if (!pushed) return errorPage(ctx, 400, 'Invalid authorization request', 'The request has expired or is not valid. Start again from the application.');
      search = new URLSearchParams(pushed.params);
      pushedId = pushed.id;
    }
    let redirectParam: string | undefined;
    try {
      redirectParam = singleOf(search)('redirect_uri');
    } catch (error) {
      return errorPage(ctx, 400, 'Invalid authorization request', (error as OAuthError).description);
    }
    const redirectUri = redirectUriOf(client, redirectParam);
    if (redirectUri === undefined) {
      return redirectParam === undefined
        ? errorPage(ctx, 400, 'Missing redirect URI', 'The application did not say where to send you back.')
        : errorPage(ctx, 400, 'Invalid redirect URI', 'The application asked to send you to an address it has not registered.');
    }

    let state: string | undefined;
    try {
      state = singleOf(search)('state');
      const { requirements, ...asked } = readAuthorizationParameters(search, client, gateway.resourceServers);
      if (pushedId === undefined && mustPush(config, client)) throw new InvalidRequest('this client must push its authorization requests (RFC 9126)');
      const context = contextOf(ctx);
      // With sessions turned off (TTL 0), one started before is not honoured either.
      const sessionsOn = config.signInSessionTtlSeconds > 0;
      const signInSessionId = sessionsOn && sessionMayStandIn(requirements) ? gateway.browser.signInSessionOf(ctx) : undefined;
      const consent = requirements.prompt.has('none') ? 'silent' : requirements.prompt.has('consent') ? 'ask' : 'remember';
      const session = gateway.browser.ensureSession(ctx);
      const grantId = pushedId ?? context.newId();
      const result = await gateway.commandBus.execute(
        new RequestAuthorization(
          {
            grantId,
            clientId: client.clientId,
            redirectUri,
            redirectUriSent: redirectParam !== undefined,
            state: state ?? null,
            browserSessionHash: sessionHash(session),
            ...asked,
            ...(pushedId !== undefined ? { pushed: true as const } : {}),
          },
          signInSessionId === undefined ? undefined : { id: signInSessionId, maxAgeSeconds: requirements.maxAgeSeconds },
          consent,
          context,
        ),
      );
      // Single sign-on: straight back with a code when the user already let this client have these scopes.
      if ('code' in result) return redirectToClient(ctx, redirectUri, config.issuer, { code: result.code, state });
      // Otherwise the login page, or the consent page for a browser already signed in, with
      // the authorization held for this browser only, unrecorded until the user decides.
      const held = sealHeldAuthorization(gateway.authorizationRequestKey, session, result.held);
      if (held.length > MAX_SEALED_LENGTH) throw new InvalidRequest('the request is too large: send a shorter state');
      ctx.status = 303;
      ctx.redirect(`/${result.held.signedIn ? 'consent' : 'login'}?request=${held}`);
    } catch (error) {
      // RFC 6749 section 4.1.2.1: once the redirect URI is known good, the client hears of the
      // failure, temporarily_unavailable included (the store away), and may try again.
      const oauth = asOAuthError(error);
      if (!oauth) throw error;
      redirectToClient(ctx, redirectUri, config.issuer, { error: oauth.code, error_description: oauth.description, state });
    }
  });
}
