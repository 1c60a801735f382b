import { GrantTypeSchema } from './events/event-schema.js';
import type { ClientRegistered, GrantType } from './events.js';
import { InvalidClientMetadata, InvalidRedirectUri } from './oauth-errors.js';
import { isLoopbackRedirectUri } from './redirect-uri.js';
import { isValidScopeToken, parseScope } from './scope.js';

/**
 * Client metadata as a client sends it to the registration endpoint (RFC 7591 section 2,
 * RFC 7592 section 2.2), read strictly into what a registration records, and back. Pure:
 * what the server offers comes in as an argument.
 */

/** What a client registers, without what the server decides (its id, how it registered). */
export type ClientMetadata = Omit<ClientRegistered['data'], 'clientId' | 'dynamicRegistration' | 'initialAccessTokenId'>;

/** What the server lets dynamically registered clients have. */
export interface RegistrationOffer {
  /** Scopes a dynamic client may register (its default when it names none). */
  scopes: readonly string[];
}

export const MAX_URI_LENGTH = 2000;
const MAX_URIS = 10;
const MAX_NAME_LENGTH = 100;
const MAX_SCOPE_LENGTH = 1000;
const MAX_KEYS = 10;

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
/** Every grant type the events can record: a grant added to the schema (the device grant) is registrable with it. */
const GRANT_TYPES: readonly string[] = GrantTypeSchema.anyOf.map((schema) => String(schema.const));
const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;
/** Members only a private or symmetric JWK has (RFC 7518 section 6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const refuse = (description: string) => new InvalidClientMetadata(description);

/**
 * A redirect URI a client may register itself: https; http on the loopback interface only
 * (RFC 8252 section 7.3); or a private-use scheme named after a reverse domain name, with a
 * dot (RFC 8252 section 7.1). Absolute, no fragment, no user information.
 *
 * `localhost` counts as loopback, though RFC 8252 section 8.3 prefers the IP literals:
 * Model Context Protocol clients, this endpoint's first users, commonly register
 * `http://localhost:<port>/callback`, and a browser resolves localhost to the loopback
 * interface. It gets no any-port exception at /authorize (redirect-uri.ts): a client
 * registering itself names the port it listens on, so exact matching serves it.
 */
export function redirectUriKind(uri: string): 'https' | 'loopback' | 'private-use' {
  if (uri.length > MAX_URI_LENGTH) throw new InvalidRedirectUri(`a redirect URI is longer than ${MAX_URI_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidRedirectUri('a redirect URI is not an absolute URI');
  }
  if (uri.includes('#')) throw new InvalidRedirectUri('a redirect URI must not have a fragment');
  if (url.username !== '' || url.password !== '') throw new InvalidRedirectUri('a redirect URI must not carry user information');
  if (url.protocol === 'https:') {
    if (url.hostname === '') throw new InvalidRedirectUri('an https redirect URI needs a host');
    return 'https';
  }
  if (url.protocol === 'http:') {
    if (isLoopbackRedirectUri(uri) || url.hostname === 'localhost') return 'loopback';
    throw new InvalidRedirectUri('http redirect URIs are for the loopback interface only (127.0.0.1, [::1], localhost); use https');
  }
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol)) return 'private-use';
  throw new InvalidRedirectUri('a redirect URI must be https, loopback http, or a private-use scheme named after a reverse domain name (RFC 8252 section 7.1)');
}

/**
 * RFC 7591 section 3 under the open policy: a native app (RFC 8252), public, sending the
 * browser back only to itself: a loopback address or its own private-use scheme.
 */
export function mayRegisterOpenly(metadata: ClientMetadata): boolean {
  const ownUris = [...metadata.redirectUris, ...(metadata.postLogoutRedirectUris ?? [])];
  return metadata.tokenEndpointAuthMethod === 'none' && ownUris.every((uri) => redirectUriKind(uri) !== 'https');
}

/**
 * The metadata of a registration or update request, checked strictly; unknown members are
 * ignored (RFC 7591 section 2), and so are `contacts` (e-mail addresses are not kept in a
 * record kept for ever) and `software_statement` (not supported: section 3.1.1 says ignore it).
 */
export function parseClientMetadata(body: unknown, offer: RegistrationOffer): ClientMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw refuse('the body must be a JSON object of client metadata');
  // A member sent as null is taken as not sent: some client libraries write every member they know.
  const field = (name: string): unknown => (Object.hasOwn(body, name) ? ((body as Record<string, unknown>)[name] ?? undefined) : undefined);

  const method = optionalString(field('token_endpoint_auth_method'), 'token_endpoint_auth_method') ?? 'client_secret_basic';
  if (!(AUTH_METHODS as readonly string[]).includes(method)) throw refuse(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
  const tokenEndpointAuthMethod = method as ClientMetadata['tokenEndpointAuthMethod'];
  const clientType = tokenEndpointAuthMethod === 'none' ? 'public' : 'confidential';

  const grantTypes = (stringArray(field('grant_types'), 'grant_types', MAX_URIS) ?? ['authorization_code']) as GrantType[];
  const unknownGrant = grantTypes.find((grant) => !GRANT_TYPES.includes(grant));
  if (unknownGrant !== undefined || grantTypes.length === 0) throw refuse(`grant_types must be some of ${GRANT_TYPES.join(', ')}`);
  const usesCode = grantTypes.includes('authorization_code');
  const responseTypes = stringArray(field('response_types'), 'response_types', MAX_URIS) ?? (usesCode ? ['code'] : []);
  if (responseTypes.some((type) => type !== 'code')) throw refuse('response_types may only be code');
  if (usesCode !== responseTypes.includes('code')) throw refuse('response_types code goes with grant type authorization_code, and only with it');
  if (grantTypes.includes('refresh_token') && !grantTypes.some((grant) => grant !== 'refresh_token' && grant !== 'client_credentials')) {
    throw refuse('grant type refresh_token needs a grant that issues refresh tokens (authorization_code or the device grant)');
  }
  if (clientType === 'public' && grantTypes.includes('client_credentials')) throw refuse('client_credentials is for confidential clients only: a public client has no credential');

  const redirectUris = stringArray(field('redirect_uris'), 'redirect_uris', MAX_URIS) ?? [];
  if (usesCode && redirectUris.length === 0) throw new InvalidRedirectUri('redirect_uris are required for the authorization_code grant');
  redirectUris.forEach(redirectUriKind);
  const postLogoutRedirectUris = stringArray(field('post_logout_redirect_uris'), 'post_logout_redirect_uris', MAX_URIS);
  postLogoutRedirectUris?.forEach(redirectUriKind);

  if (field('jwks_uri') !== undefined) throw refuse('jwks_uri is not supported: send the public keys themselves in jwks');
  const jwks = publicKeys(field('jwks'));
  if ((tokenEndpointAuthMethod === 'private_key_jwt') !== (jwks !== undefined)) throw refuse('jwks is required for private_key_jwt, and only for it');

  const scopeText = optionalString(field('scope'), 'scope', MAX_SCOPE_LENGTH);
  const scopes = scopeText === undefined || scopeText.trim() === '' ? [...offer.scopes] : parseScope(scopeText);
  if (!scopes.every(isValidScopeToken)) throw refuse('scope must be space-separated scope tokens');
  const beyond = scopes.filter((scope) => !offer.scopes.includes(scope));
  if (beyond.length > 0) throw refuse(`scope may only name scopes offered to registered clients: ${offer.scopes.join(' ')}`);

  const name = optionalString(field('client_name'), 'client_name', MAX_NAME_LENGTH);
  if (name !== undefined && (name.trim() === '' || /[\u0000-\u001f\u007f]/.test(name))) throw refuse('client_name must be printable text');
  const dpopBound = field('dpop_bound_access_tokens');
  if (dpopBound !== undefined && typeof dpopBound !== 'boolean') throw refuse('dpop_bound_access_tokens must be true or false');
  const mustPush = field('require_pushed_authorization_requests');
  if (mustPush !== undefined && typeof mustPush !== 'boolean') throw refuse('require_pushed_authorization_requests must be true or false');
  const alg = optionalString(field('id_token_signed_response_alg'), 'id_token_signed_response_alg');
  if (alg !== undefined && !(ID_TOKEN_ALGS as readonly string[]).includes(alg)) throw refuse(`id_token_signed_response_alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);

  return {
    name: name ?? 'Unnamed application',
    clientType,
    redirectUris,
    scopes,
    tokenEndpointAuthMethod,
    grantTypes,
    ...(jwks ? { jwks } : {}),
    ...(alg ? { idTokenSignedResponseAlg: alg as (typeof ID_TOKEN_ALGS)[number] } : {}),
    ...(dpopBound === true ? { dpopBoundAccessTokens: true } : {}),
    ...(mustPush === true ? { requirePushedAuthorizationRequests: true } : {}),
    ...(postLogoutRedirectUris?.length ? { postLogoutRedirectUris } : {}),
    ...webPage(field, 'client_uri', 'clientUri'),
    ...webPage(field, 'logo_uri', 'logoUri'),
    ...webPage(field, 'tos_uri', 'tosUri'),
    ...webPage(field, 'policy_uri', 'policyUri'),
  };
}

/** A registration as RFC 7591 section 3.2.1 names its members (no secret: those travel apart). */
export function clientMetadataResponse(client: ClientRegistered['data']): Record<string, unknown> {
  return {
    client_id: client.clientId,
    client_name: client.name,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    scope: client.scopes.join(' '),
    ...(client.jwks ? { jwks: client.jwks } : {}),
    ...(client.idTokenSignedResponseAlg ? { id_token_signed_response_alg: client.idTokenSignedResponseAlg } : {}),
    ...(client.postLogoutRedirectUris ? { post_logout_redirect_uris: client.postLogoutRedirectUris } : {}),
    ...(client.dpopBoundAccessTokens ? { dpop_bound_access_tokens: true } : {}),
    ...(client.requirePushedAuthorizationRequests ? { require_pushed_authorization_requests: true } : {}),
    ...(client.clientUri ? { client_uri: client.clientUri } : {}),
    ...(client.logoUri ? { logo_uri: client.logoUri } : {}),
    ...(client.tosUri ? { tos_uri: client.tosUri } : {}),
    ...(client.policyUri ? { policy_uri: client.policyUri } : {}),
  };
}

function optionalString(value: unknown, name: string, maxLength = 200): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > maxLength) throw refuse(`${name} must be a string of at most ${maxLength} characters`);
  return value;
}

function stringArray(value: unknown, name: string, maxItems: number): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > maxItems || !value.every((item) => typeof item === 'string' && item.length <= MAX_URI_LENGTH)) {
    throw refuse(`${name} must be an array of at most ${maxItems} strings`);
  }
  return [...new Set(value as string[])];
}

/** A page about the client, which consent screens may link to: https, or loopback http. */
function webPage(field: (name: string) => unknown, name: string, key: keyof ClientMetadata): Partial<ClientMetadata> {
  const uri = optionalString(field(name), name, MAX_URI_LENGTH);
  if (uri === undefined) return {};
  let kind: string;
  try {
    kind = redirectUriKind(uri);
  } catch {
    kind = 'invalid';
  }
  if (kind !== 'https' && kind !== 'loopback') throw refuse(`${name} must be an https URL (or http on a loopback address) without a fragment`);
  return { [key]: uri };
}

/** A JWK Set of public keys only (RFC 7517 section 5). */
function publicKeys(value: unknown): ClientMetadata['jwks'] {
  if (value === undefined) return undefined;
  const keys = typeof value === 'object' && value !== null ? (value as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) throw refuse(`jwks must be a JWK Set of 1 to ${MAX_KEYS} keys`);
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key) || typeof (key as { kty?: unknown }).kty !== 'string') throw refuse('each key in jwks must be a JWK with kty');
    if (PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(key, member))) throw refuse('jwks must hold public keys only: a private or symmetric key was sent');
  }
  return { keys: keys as Array<Record<string, unknown>> };
}
