import type Router from '@koa/router';
import type { Gateway } from '../gateway-context.js';

/** Every key that verifies: announced here before it signs, kept until its tokens expired, then gone. */
export function jwksRoute(router: Router, gateway: Gateway): void {
  router.get('/jwks.json', (ctx) => {
    const keys = gateway.ports.readModel.verificationKeys().map((key) => key.publicJwk);
    ctx.set('Cache-Control', 'public, max-age=60');
    ctx.body = { keys };
  });
}
