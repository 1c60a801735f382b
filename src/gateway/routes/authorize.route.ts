import type Router from '@koa/router';
import { RequestAuthorization } from '../../commands/authorization.commands.js';
import {
  InvalidRequest,
  OAuthError,
  UnauthorizedClient,
  UnsupportedResponseType,
} from '../../domain/oauth-errors.js';
import { isValidS256Challenge } from '../../domain/pkce.js';
import { sessionMayStandIn, signInRequirements } from '../../domain/prompt.js';
import { matchesRegisteredRedirectUri } from '../../domain/redirect-uri.js';
import { authorizationScopes } from '../../domain/scope.js';
import { REPEATABLE } from '../../http/form.js';
import { requestedResources } from '../../grants/resource-indicators.js';
import { redirectToClient } from '../authorization-response.js';
import { sessionHash } from '../browser-session.js';
import { errorPage } from '../errors.js';
import type { Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';
import { findActiveClient } from '../client-lookup.js';
import { MAX_SEALED_LENGTH, sealHeldAuthorization } from '../held-authorization.js';

/**
 * The parameters this endpoint reads. Error descriptions name only these: a description
 * goes to the client at its redirect URI, and text the request chose (an unknown
 * parameter's name, a prompt value) would let anyone put words in the server's mouth there.
 */
/** Ample for a nonce, a return path and a signature; the shortest bound any browser puts on a URL is far above. */
export const MAX_STATE_LENGTH = 2048;

const AUTHORIZATION_PARAMETERS = new Set(['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'nonce', 'resource', 'dpop_jkt']);

/** A JWK SHA-256 thumbprint (RFC 7638), base64url. */
const JWK_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/** The longest `nonce`: it goes on record and into the ID token. */
export const MAX_NONCE_LENGTH = 512;

/**
 * Step 1, the authorization request (RFC 6749 section 4.1.1, RFC 7636). Until the
 * client and its redirect URI are known good, errors are shown to the user and never
 * redirected: a redirect to an unchecked URI would make this an open redirector.
 */
export function authorizeRoute(router: Router, gateway: Gateway): void {
  const { config, readModel } = gateway.ports;
  router.get('/authorize', async (ctx) => {
    ctx.state.browserRoute = true;
    const search = new URLSearchParams(ctx.querystring);
    const single = (name: string): string | undefined => {
      const values = search.getAll(name);
      if (values.length > 1) throw new InvalidRequest(`${AUTHORIZATION_PARAMETERS.has(name) ? `parameter ${name}` : 'a parameter'} must not be repeated`);
      return values[0];
    };

    let clientId: string | undefined;
    let redirectParam: string | undefined;
    try {
      clientId = single('client_id');
      redirectParam = single('redirect_uri');
    } catch (error) {
      return errorPage(ctx, 400, 'Invalid authorization request', (error as OAuthError).description);
    }
    const client = clientId ? await findActiveClient(gateway.ports, clientId) : undefined;
    if (!client) return errorPage(ctx, 400, 'Unknown application', 'The application that sent you here is not registered with this server.');
    if (redirectParam !== undefined && !matchesRegisteredRedirectUri(client.redirectUris, redirectParam, client.clientType)) {
      return errorPage(ctx, 400, 'Invalid redirect URI', 'The application asked to send you to an address it has not registered.');
    }
    if (redirectParam === undefined && client.redirectUris.length !== 1) {
      return errorPage(ctx, 400, 'Missing redirect URI', 'The application did not say where to send you back.');
    }
    const redirectUri = redirectParam ?? client.redirectUris[0];

    let state: string | undefined;
    try {
      state = single('state');
      const responseType = single('response_type');
      const scope = single('scope');
      const codeChallenge = single('code_challenge');
      const codeChallengeMethod = single('code_challenge_method');
      for (const name of new Set(search.keys())) if (!REPEATABLE.has(name)) single(name);

      // Every recorded authorization keeps its state for ever: kilobytes of it are not a client's to spend.
      if (state !== undefined && state.length > MAX_STATE_LENGTH) throw new InvalidRequest(`state must be at most ${MAX_STATE_LENGTH} characters`);
      const nonce = single('nonce');
      if (nonce !== undefined && (nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH)) throw new InvalidRequest(`nonce must be 1 to ${MAX_NONCE_LENGTH} characters`);
      if (!responseType) throw new InvalidRequest('response_type is required');
      if (responseType !== 'code') throw new UnsupportedResponseType('only response_type=code is supported');
      if (!client.grantTypes.includes('authorization_code')) throw new UnauthorizedClient('this client may not use the authorization code grant');
      if (!codeChallenge) throw new InvalidRequest('PKCE is required: send code_challenge and code_challenge_method=S256');
      if (codeChallengeMethod !== 'S256') throw new InvalidRequest('code_challenge_method must be S256');
      if (!isValidS256Challenge(codeChallenge)) throw new InvalidRequest('code_challenge is not a valid S256 challenge');
      const scopes = authorizationScopes(scope, client.scopes);
      // RFC 8707: the grant holds the resource servers asked for, or the client's default, and its tokens are for them.
      const asked = requestedResources(search.getAll('resource'));
      if (asked) gateway.resourceServers.check(client, asked, scopes);
      const resources = asked ?? [gateway.resourceServers.defaultFor(client)];
      // RFC 9449 section 10: the code will be redeemed only with a DPoP proof by this key.
      const dpopJkt = single('dpop_jkt');
      if (dpopJkt !== undefined && !JWK_THUMBPRINT.test(dpopJkt)) throw new InvalidRequest('dpop_jkt must be a JWK SHA-256 thumbprint');

      const requirements = signInRequirements(single('prompt'), single('max_age'));
      const context = contextOf(ctx);
      // With sessions turned off (TTL 0), one started before is not honoured either.
      const sessionsOn = config.signInSessionTtlSeconds > 0;
      const signInSessionId = sessionsOn && sessionMayStandIn(requirements) ? gateway.browser.signInSessionOf(ctx) : undefined;
      const consent = requirements.prompt.has('none') ? 'silent' : requirements.prompt.has('consent') ? 'ask' : 'remember';
      const session = gateway.browser.ensureSession(ctx);
      const grantId = context.newId();
      const result = await gateway.commandBus.execute(
        new RequestAuthorization(
          {
            grantId,
            clientId: client.clientId,
            redirectUri,
            redirectUriSent: redirectParam !== undefined,
            scopes,
            state: state ?? null,
            codeChallenge,
            codeChallengeMethod: 'S256',
            browserSessionHash: sessionHash(session),
            ...(nonce !== undefined ? { nonce } : {}),
            resources,
            ...(dpopJkt !== undefined ? { dpopJkt } : {}),
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
      if (!(error instanceof OAuthError)) throw error;
      redirectToClient(ctx, redirectUri, config.issuer, { error: error.code, error_description: error.description, state });
    }
  });
}
