import type { AuthorizationRequested } from '../domain/events.js';
import { InvalidRequest, UnauthorizedClient, UnsupportedResponseType } from '../domain/oauth-errors.js';
import { isValidS256Challenge } from '../domain/pkce.js';
import { signInRequirements, type SignInRequirements } from '../domain/prompt.js';
import { matchesRegisteredRedirectUri } from '../domain/redirect-uri.js';
import { authorizationScopes } from '../domain/scope.js';
import { requestedResources, type ResourceServers } from '../grants/resource-indicators.js';
import { REPEATABLE } from '../http/form.js';
import type { ClientDocument } from '../read-model/documents.js';

/** Ample for a nonce, a return path and a signature; the shortest bound any browser puts on a URL is far above. */
export const MAX_STATE_LENGTH = 2048;
/** The longest `nonce`: it goes on record and into the ID token. */
export const MAX_NONCE_LENGTH = 512;
/** A JWK SHA-256 thumbprint (RFC 7638), base64url. */
const JWK_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/**
 * The parameters an authorization request may carry. Error descriptions name only these:
 * a description goes to the client at its redirect URI, and text the request chose (an
 * unknown parameter's name, a prompt value) would let anyone put words in the server's mouth there.
 */
const AUTHORIZATION_PARAMETERS = new Set(['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'nonce', 'resource', 'dpop_jkt', 'request_uri']);

/** One value of a parameter, refusing one sent twice (RFC 6749 section 3.1). */
export function singleOf(search: URLSearchParams): (name: string) => string | undefined {
  return (name) => {
    const values = search.getAll(name);
    if (values.length > 1) throw new InvalidRequest(`${AUTHORIZATION_PARAMETERS.has(name) ? `parameter ${name}` : 'a parameter'} must not be repeated`);
    return values[0];
  };
}

/** Where the answer goes: the redirect URI sent, if registered, or the only one registered; undefined when neither. */
export function redirectUriOf(client: ClientDocument, sent: string | undefined): string | undefined {
  if (sent !== undefined) return matchesRegisteredRedirectUri(client.redirectUris, sent, client.clientType) ? sent : undefined;
  return client.redirectUris.length === 1 ? client.redirectUris[0] : undefined;
}

/** What an authorization request asks, checked; `state` apart, as errors must still carry it. */
export type AuthorizationParameters = Omit<AuthorizationRequested['data'], 'grantId' | 'clientId' | 'redirectUri' | 'redirectUriSent' | 'state' | 'browserSessionHash' | 'expiresAt'> & {
  requirements: SignInRequirements;
};

/**
 * An authorization request's parameters for a known client whose redirect URI was found
 * good (RFC 6749 section 4.1.1, RFC 7636, OpenID Connect Core 3.1.2.1, RFC 8707, RFC 9449
 * section 10): what /authorize and the pushed authorization request endpoint both check.
 * Throws the OAuth error for the first that is wrong.
 */
export function readAuthorizationParameters(search: URLSearchParams, client: ClientDocument, resourceServers: ResourceServers): AuthorizationParameters {
  const single = singleOf(search);
  const responseType = single('response_type');
  const scope = single('scope');
  const codeChallenge = single('code_challenge');
  const codeChallengeMethod = single('code_challenge_method');
  for (const name of new Set(search.keys())) if (!REPEATABLE.has(name)) single(name);

  // Every recorded authorization keeps its state for ever: kilobytes of it are not a client's to spend.
  const state = single('state');
  if (state !== undefined && state.length > MAX_STATE_LENGTH) throw new InvalidRequest(`state must be at most ${MAX_STATE_LENGTH} characters`);
  const nonce = single('nonce');
  if (nonce !== undefined && (nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH)) throw new InvalidRequest(`nonce must be 1 to ${MAX_NONCE_LENGTH} characters`);
  if (!responseType) throw new InvalidRequest('response_type is required');
  if (responseType !== 'code') throw new UnsupportedResponseType('only response_type=code is supported');
  if (!client.grantTypes.includes('authorization_code')) throw new UnauthorizedClient('this client may not use the authorization code grant');
  if (!codeChallenge) throw new InvalidRequest('PKCE is required: send code_challenge and code_challenge_method=S256');
  if (codeChallengeMethod !== 'S256') throw new InvalidRequest('code_challenge_method must be S256');
  if (!isValidS256Challenge(codeChallenge)) throw new InvalidRequest('code_challenge is not a valid S256 challenge');
  const scopes = authorizationScopes(scope, client.scopes);
  // RFC 8707: the grant holds the resource servers asked for, or the client's default, and its tokens are for them.
  // The default is checked too: a disabled resource server gets no new grant.
  const asked = requestedResources(search.getAll('resource'));
  const resources = asked ?? [resourceServers.defaultFor(client)];
  resourceServers.check(client, resources, asked ? scopes : undefined);
  // RFC 9449 section 10: the code will be redeemed only with a DPoP proof by this key.
  const dpopJkt = single('dpop_jkt');
  if (dpopJkt !== undefined && !JWK_THUMBPRINT.test(dpopJkt)) throw new InvalidRequest('dpop_jkt must be a JWK SHA-256 thumbprint');
  return {
    scopes,
    codeChallenge,
    codeChallengeMethod: 'S256',
    ...(nonce !== undefined ? { nonce } : {}),
    resources,
    ...(dpopJkt !== undefined ? { dpopJkt } : {}),
    requirements: signInRequirements(single('prompt'), single('max_age')),
  };
}
