import type Router from '@koa/router';
import type { SigningKeyDocument } from '../../../projections/signing-keys.projection.js';
import type { Gateway } from '../gateway-context.js';

/** Every published key, active or not yet: a key is announced here before it signs. */
export function jwksRoute(router: Router, gateway: Gateway): void {
  router.get('/jwks.json', (ctx) => {
    const keys = gateway.ports.readModel.entries('signing-keys').map(([, doc]) => (doc as SigningKeyDocument).publicJwk);
    ctx.set('Cache-Control', 'public, max-age=60');
    ctx.body = { keys };
  });
}
