/**
 * Codes, refresh tokens and access token ids all read `<grant id>.<random>`: each finds its
 * grant's stream without an index.
 */
const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[A-Za-z0-9_-]{20,64}$/;

/** The grant id of a code or refresh token presented by a client, refused unless well-formed. */
export function grantIdOfToken(token: string, refuse: () => Error): string {
  const match = TOKEN.exec(token);
  if (!match) throw refuse();
  return match[1];
}

/** The grant part of an id already vouched for (a verified access token's jti): everything before the dot. */
export const grantIdOf = (tokenId: string): string => {
  const dot = tokenId.indexOf('.');
  return dot === -1 ? tokenId : tokenId.slice(0, dot);
};
