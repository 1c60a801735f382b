/**
 * Errors named after their OAuth error codes (RFC 6749 sections 4.1.2.1 and 5.2,
 * RFC 6750 section 3.1). The gateway turns them into the standard responses; anything
 * else is a server_error with no detail.
 */
export abstract class OAuthError extends Error {
  abstract readonly code: string;
  /** HTTP status when the error is answered directly (not by redirect). */
  readonly status: number = 400;
  constructor(readonly description: string) {
    super(description);
  }
}

export class InvalidRequest extends OAuthError {
  readonly code = 'invalid_request';
}
export class InvalidClient extends OAuthError {
  readonly code = 'invalid_client';
  override readonly status = 401;
}
export class InvalidGrant extends OAuthError {
  readonly code = 'invalid_grant';
}
export class UnauthorizedClient extends OAuthError {
  readonly code = 'unauthorized_client';
}
export class UnsupportedGrantType extends OAuthError {
  readonly code = 'unsupported_grant_type';
}
export class UnsupportedResponseType extends OAuthError {
  readonly code = 'unsupported_response_type';
}
export class InvalidScope extends OAuthError {
  readonly code = 'invalid_scope';
}
/** RFC 9449 section 5: a DPoP proof missing, malformed, replayed or for another request or key. */
export class InvalidDpopProof extends OAuthError {
  readonly code = 'invalid_dpop_proof';
}
/** RFC 9449 section 8: the proof must carry the nonce the server gives in DPoP-Nonce. */
export class UseDpopNonce extends OAuthError {
  readonly code = 'use_dpop_nonce';
}
/** RFC 8707 section 2: a resource that is unknown, malformed, or not for this client or grant. */
export class InvalidTarget extends OAuthError {
  readonly code = 'invalid_target';
}
export class AccessDenied extends OAuthError {
  readonly code = 'access_denied';
  override readonly status = 403;
}
/**
 * Too many requests of one kind from one address lately: 429, RFC 6749's code for "try again
 * later", and Retry-After (set where errors are answered, src/gateway/errors.ts).
 */
export class TooManyRequests extends OAuthError {
  readonly code = 'temporarily_unavailable';
  override readonly status = 429;
  constructor(
    what: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`too many ${what} from this address; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`);
  }
}
export class TemporarilyUnavailable extends OAuthError {
  readonly code = 'temporarily_unavailable';
  override readonly status = 503;
}
export class InvalidToken extends OAuthError {
  readonly code = 'invalid_token';
  override readonly status = 401;
}
export class InsufficientScope extends OAuthError {
  readonly code = 'insufficient_scope';
  override readonly status = 403;
}
/** prompt=none, and nobody is signed in in this browser (OpenID Connect Core section 3.1.2.6). */
export class LoginRequired extends OAuthError {
  readonly code = 'login_required';
}
/** prompt=none, and the user would have to be asked for consent (OpenID Connect Core section 3.1.2.6). */
export class ConsentRequired extends OAuthError {
  readonly code = 'consent_required';
}
/** RFC 7591 section 3.2.2: a redirect URI the server will not register. */
export class InvalidRedirectUri extends OAuthError {
  readonly code = 'invalid_redirect_uri';
}
/** RFC 7591 section 3.2.2: client metadata that is malformed, unknown in value, or inconsistent. */
export class InvalidClientMetadata extends OAuthError {
  readonly code = 'invalid_client_metadata';
}
/** RFC 8628 section 3.5: the user has not approved or denied the device yet; poll again after the interval. */
export class AuthorizationPending extends OAuthError {
  readonly code = 'authorization_pending';
  constructor(readonly intervalSeconds: number) {
    super('the user has not yet approved or denied the device');
  }
}
/** RFC 8628 section 3.5: polled before the interval passed; the interval is now longer by 5 seconds. */
export class SlowDown extends OAuthError {
  readonly code = 'slow_down';
  constructor(readonly intervalSeconds: number) {
    super(`polling too fast: wait ${intervalSeconds} seconds between requests`);
  }
}
/** RFC 8628 section 3.5: the device code expired before the user decided (or before it was exchanged). */
export class ExpiredToken extends OAuthError {
  readonly code = 'expired_token';
}
/** RFC 8628 section 3.5: the user denied the device. At the token endpoint, a 400 (RFC 6749 section 5.2), not a page's 403. */
export class DeviceAccessDenied extends OAuthError {
  readonly code = 'access_denied';
}
