import { sha256 } from './crypto.js';

/**
 * A resource indicator (RFC 8707 section 2): an absolute URI, no fragment. The RFC says a
 * query SHOULD NOT be used; refusing one keeps matching a plain string comparison, as
 * audiences are compared by resource servers. Compared as sent, like redirect URIs.
 */
export function isResourceIndicator(value: string): boolean {
  if (value.length === 0 || value.length > 2048 || value.includes('#') || value.includes('?')) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The id that names a resource server's stream: a URI's characters are not all a stream name's. */
export const resourceServerIdOf = (uri: string): string => sha256(uri);
