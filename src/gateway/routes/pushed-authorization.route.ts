import type Router from '@koa/router';
import { InvalidDpopProof, InvalidRequest } from '../../domain/oauth-errors.js';
import { formParams, REPEATABLE, valuesOf } from '../../http/form.js';
import { readAuthorizationParameters, redirectUriOf } from '../authorization-parameters.js';
import type { Gateway } from '../gateway-context.js';
import { PUSHED_REQUEST_TTL_SECONDS, sealPushedRequest } from '../pushed-authorization-request.js';
import { contextOf } from '../request-context.js';

/** How a client authenticates: not part of the authorization request it pushes. */
const CLIENT_AUTHENTICATION = new Set(['client_secret', 'client_assertion', 'client_assertion_type']);

/**
 * RFC 9126: the client pushes its authorization request, authenticated, and gets a
 * request_uri to send the browser with. Checked as /authorize checks it, so a bad request
 * is refused here, to the client, never in front of the user. A DPoP proof here binds the
 * code to its key (RFC 9449 section 10.1), as dpop_jkt does.
 */
export function pushedAuthorizationRoute(router: Router, gateway: Gateway): void {
  router.post('/par', async (ctx) => {
    const params = await formParams(ctx, REPEATABLE);
    const client = await gateway.clients.authenticate(ctx, params);
    if (params.client_id !== undefined && params.client_id !== client.clientId) throw new InvalidRequest('client_id is not the authenticated client');
    if (params.request_uri !== undefined) throw new InvalidRequest('request_uri cannot be pushed (RFC 9126 section 2.1)');
    if (params.request !== undefined) throw new InvalidRequest('request objects are not supported: push the parameters themselves');
    const search = new URLSearchParams();
    for (const name of Object.keys(params)) if (!CLIENT_AUTHENTICATION.has(name)) for (const value of valuesOf(params, name)) search.append(name, value);
    search.set('client_id', client.clientId);
    const jkt = await gateway.endpointProofs.keyOf(ctx, '/par');
    if (jkt !== undefined) {
      if (params.dpop_jkt !== undefined && params.dpop_jkt !== jkt) throw new InvalidDpopProof('dpop_jkt is not the thumbprint of the DPoP proof\'s key');
      search.set('dpop_jkt', jkt);
    }
    if (redirectUriOf(client, params.redirect_uri) === undefined) throw new InvalidRequest('redirect_uri is missing or not registered for this client');
    readAuthorizationParameters(search, client, gateway.resourceServers);
    const id = contextOf(ctx).newId();
    ctx.status = 201;
    ctx.body = {
      request_uri: sealPushedRequest(gateway.pushedRequestKey, client.clientId, { id, params: search.toString(), expiresAt: Date.now() + PUSHED_REQUEST_TTL_SECONDS * 1000 }),
      expires_in: PUSHED_REQUEST_TTL_SECONDS,
    };
  });
}
