import type Router from '@koa/router';
import { RequestDeviceAuthorization } from '../../commands/device-authorization.commands.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../domain/events/event-schema.js';
import { UnauthorizedClient } from '../../domain/oauth-errors.js';
import { authorizationScopes } from '../../domain/scope.js';
import { formParams, REPEATABLE, valuesOf } from '../../http/form.js';
import { requestedResources } from '../../grants/resource-indicators.js';
import { countedAs } from '../../http/client-address.js';
import type { Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';

/** Where the user goes to enter the code (RFC 8628 section 3.2 verification_uri): short, to be typed. */
export const VERIFICATION_PATH = '/device';

/**
 * RFC 8628 sections 3.1 and 3.2: the device authorization endpoint. The client
 * authenticates as at the token endpoint (a public client names itself with client_id),
 * must be registered for the device grant, and asks for scopes as at /authorize. The answer
 * carries the device code, so it is no-store like every answer here (src/http/no-store.ts).
 */
export function deviceAuthorizationRoute(router: Router, gateway: Gateway): void {
  const { issuer } = gateway.ports.config;
  router.post('/device_authorization', async (ctx) => {
    const params = await formParams(ctx, REPEATABLE);
    const client = await gateway.clients.authenticate(ctx, params);
    if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) throw new UnauthorizedClient('this client may not use the device authorization grant');
    const scopes = authorizationScopes(params.scope, client.scopes);
    // RFC 8707, as at /authorize: the grant holds the resource servers asked for, or the client's default.
    const asked = requestedResources(valuesOf(params, 'resource'));
    const resources = asked ?? [gateway.resourceServers.defaultFor(client)];
    gateway.resourceServers.check(client, resources, asked ? scopes : undefined);
    // Counted once the request is good: only what would be recorded counts.
    await gateway.ports.deviceRequests.admit(countedAs(ctx.ip), new Date());
    const answer = await gateway.commandBus.execute(new RequestDeviceAuthorization(client.clientId, scopes, resources, contextOf(ctx)));
    const verificationUri = `${issuer}${VERIFICATION_PATH}`;
    ctx.body = {
      device_code: answer.deviceCode,
      user_code: answer.userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${answer.userCode}`,
      expires_in: answer.expiresIn,
      interval: answer.interval,
    };
  });
}
