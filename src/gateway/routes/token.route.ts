import type Router from '@koa/router';
import { InvalidDpopProof, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../../domain/oauth-errors.js';
import { bindingOf } from '../../grants/token-grant.js';
import { tokenGrants } from '../../grants/registry.js';
import { formParams, REPEATABLE } from '../../http/form.js';
import type { Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';

/**
 * Steps 4 and 5: the access token request and the access token (RFC 6749 sections
 * 4.1.3, 4.4, 5 and 6): the client authenticated, the grant type looked up in the
 * registry (src/grants), its command sent. Every answer, success or error, is no-store
 * (src/http/no-store.ts).
 */
export function tokenRoute(router: Router, gateway: Gateway): void {
  router.post('/token', async (ctx) => {
    const params = await formParams(ctx, REPEATABLE);
    const client = await gateway.clients.authenticateReadableByClient(ctx, params);
    const grantType = params.grant_type;
    if (!grantType) throw new InvalidRequest('grant_type is required');
    const grant = tokenGrants.get(grantType);
    if (!grant) throw new UnsupportedGrantType(`grant_type ${grantType} is not supported`);
    if (!client.grantTypes.includes(grant.grantType)) throw new UnauthorizedClient(`this client may not use the ${grantType} grant`);
    // RFC 9449: a proof, if sent, binds the tokens to its key; a client registered for DPoP must send one.
    const jkt = await gateway.endpointProofs.keyOf(ctx, '/token');
    if (jkt === undefined && (client.dpopBoundAccessTokens || client.securityProfile === 'fapi2')) throw new InvalidDpopProof('this client\'s tokens are DPoP-bound: send a DPoP proof');
    ctx.body = await gateway.commandBus.execute(grant.command(params, client, contextOf(ctx), gateway.resourceServers, bindingOf(client, jkt)));
  });
}
