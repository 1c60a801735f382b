import { InvalidScope } from './oauth-errors.js';

/** RFC 6749 section 3.3: space-delimited, case-sensitive, order does not matter. */
export function parseScope(scope: string | undefined): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(' ').filter(Boolean))];
}

export const formatScope = (scopes: readonly string[]): string => scopes.join(' ');

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
export const isValidScopeToken = (token: string): boolean => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(token);

/**
 * The scopes an authorization asks for, at /authorize and at the device authorization
 * endpoint alike: those named, or when none are, all the client may have. Refused
 * (invalid_scope) when malformed or beyond what the client may have.
 */
export function authorizationScopes(scope: string | undefined, allowed: readonly string[]): string[] {
  const requested = parseScope(scope);
  if (scope !== undefined && (requested.length === 0 || !requested.every(isValidScopeToken))) throw new InvalidScope('scope is malformed');
  const scopes = requested.length > 0 ? requested : [...allowed];
  const unknown = scopes.filter((s) => !allowed.includes(s));
  if (unknown.length > 0) throw new InvalidScope(`scope asks for more than this client may have (${allowed.join(' ')})`);
  return scopes;
}
