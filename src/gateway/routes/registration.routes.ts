import type Router from '@koa/router';
import type { Context } from 'koa';
import { InvalidToken } from '../../domain/oauth-errors.js';
import { jsonBody } from '../../http/json-body.js';
import type { ClientRegistration } from '../client-registration.js';
import type { Gateway } from '../gateway-context.js';
import { contextOf } from '../request-context.js';

/** The bearer token sent, '' for an Authorization header that is not one (refused as a wrong token), undefined for none. */
const bearerOf = (ctx: Context): string | undefined => {
  const header = ctx.get('authorization');
  return header === '' ? undefined : (/^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim())?.[1] ?? '');
};

/**
 * The registration endpoint (RFC 7591) and each client's configuration endpoint below it
 * (RFC 7592): JSON in, JSON out, every answer no-store (src/http/no-store.ts). A refused
 * bearer token gets its challenge (RFC 6750 section 3); too many open registrations from
 * one address get 429 and when to come back. Not mounted when DYNAMIC_REGISTRATION is off.
 */
export function registrationRoutes(router: Router, gateway: Gateway): void {
  const { registration } = gateway;
  if (!registration) return;

  const answering = async (ctx: Context, work: (registration: ClientRegistration) => Promise<void>) => {
    try {
      await work(registration);
    } catch (error) {
      if (error instanceof InvalidToken) ctx.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${error.description.replace(/["\\]/g, '')}"`);
      throw error;
    }
  };

  router.post('/register', (ctx) =>
    answering(ctx, async (registration) => {
      const body = await jsonBody(ctx);
      ctx.body = await registration.register(body, bearerOf(ctx), ctx.ip, contextOf(ctx));
      ctx.status = 201;
    }),
  );
  router.get('/register/:clientId', (ctx) =>
    answering(ctx, async (registration) => {
      ctx.body = await registration.read(ctx.params.clientId, bearerOf(ctx));
    }),
  );
  router.put('/register/:clientId', (ctx) =>
    answering(ctx, async (registration) => {
      const body = await jsonBody(ctx);
      ctx.body = await registration.update(ctx.params.clientId, bearerOf(ctx), body, contextOf(ctx));
    }),
  );
  router.delete('/register/:clientId', (ctx) =>
    answering(ctx, async (registration) => {
      await registration.delete(ctx.params.clientId, bearerOf(ctx), contextOf(ctx));
      ctx.status = 204;
    }),
  );
}
