/** RFC 6749 section 3.3: space-delimited, case-sensitive, order does not matter. */
export function parseScope(scope: string | undefined): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(' ').filter(Boolean))];
}

export const formatScope = (scopes: readonly string[]): string => scopes.join(' ');

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
export const isValidScopeToken = (token: string): boolean => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(token);
