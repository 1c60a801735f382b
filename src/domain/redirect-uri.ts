/**
 * Redirect URI matching (RFC 6749 section 3.1.2.3, RFC 9700 section 2.1): exact string
 * comparison, with one exception from RFC 8252 section 7.3: a native (public) client that
 * registered a loopback IP redirect URI may use any port on it, since the operating
 * system picks the port at run time. Everything else (scheme, host, path, query) must
 * still be identical, and `localhost` gets no exception (RFC 8252 section 8.3).
 */
export function matchesRegisteredRedirectUri(registered: readonly string[], requested: string, clientType: 'confidential' | 'public'): boolean {
  if (registered.includes(requested)) return true;
  if (clientType !== 'public') return false;
  const asked = loopback(requested);
  return asked !== undefined && registered.some((uri) => loopback(uri)?.withoutPort === asked.withoutPort);
}

/** A loopback IP redirect URI (RFC 8252 section 7.3): http on 127.0.0.1 or [::1], any port, a path. */
export const isLoopbackRedirectUri = (uri: string): boolean => loopback(uri) !== undefined;

function loopback(uri: string): { withoutPort: string } | undefined {
  const match = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(\/[^#]*)?$/.exec(uri);
  if (!match) return undefined;
  if (match[2] !== undefined && (Number(match[2]) < 1 || Number(match[2]) > 65535 || match[2].startsWith('0'))) return undefined;
  return { withoutPort: `http://${match[1]}${match[3] ?? ''}` };
}
