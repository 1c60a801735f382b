import type Router from '@koa/router';

/** The scopes the shipped resource server serves: one per API. */
export const SERVED_SCOPES = ['profile', 'items:read'] as const;

/**
 * RFC 9728 section 3.1: the metadata of resource `https://host/path` lives at
 * `https://host/.well-known/oauth-protected-resource/path` (the well-known segment between
 * host and path, as RFC 8414 does for issuers).
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/**
 * RFC 9728: who this resource server is (its resource indicator, from configuration: the
 * `aud` its tokens must carry), which authorization server issues its tokens, what it
 * serves, and how tokens are presented. What a client that met a 401 reads next (the MCP
 * authorization flow starts here).
 */
export function protectedResourceMetadataRoute(router: Router, resource: string, issuer: string, name: string): void {
  const document = {
    resource,
    authorization_servers: [issuer],
    scopes_supported: SERVED_SCOPES,
    bearer_methods_supported: ['header'],
    resource_name: name,
  };
  router.get(new URL(protectedResourceMetadataUrl(resource)).pathname, (ctx) => {
    ctx.body = document;
  });
}
