import type { Context } from 'koa';

/**
 * Sends the browser back to the client's registered redirect URI with the response
 * parameters added to its query (RFC 6749 section 4.1.2), always with `iss`
 * (RFC 9207) so a client talking to several servers can tell who answered.
 */
export function redirectToClient(ctx: Context, redirectUri: string, issuer: string, params: Record<string, string | null | undefined>): void {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value != null) url.searchParams.append(name, value);
  url.searchParams.append('iss', issuer);
  ctx.status = 303;
  ctx.redirect(url.toString());
}
