/**
 * The domain's events, past tense, by stream. None carries a secret: codes, tokens and
 * client secrets appear only as SHA-256 hashes or ids, password hashes and private keys
 * never (they live in the credential and key stores).
 */

// client-<clientId>
export interface ClientRegistered {
  type: 'ClientRegistered';
  data: {
    clientId: string;
    name: string;
    clientType: 'confidential' | 'public';
    redirectUris: string[];
    scopes: string[];
    tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
    grantTypes: GrantType[];
    /** Public keys for private_key_jwt (RFC 7523); never a private member. */
    jwks?: { keys: Array<Record<string, unknown>> };
  };
}
export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';
export type ClientEvent = ClientRegistered;

// user-<username>
export interface UserRegistered {
  type: 'UserRegistered';
  data: { userId: string; username: string; name: string; email: string | null };
}
export type UserEvent = UserRegistered;

// login-<sha256 of the lower-cased username>: failed sign-ins, for throttling and audit
export interface LoginFailed {
  type: 'LoginFailed';
  data: { username: string; address: string; reason: 'bad_credentials' | 'throttled'; at: string };
}
/** Recorded only after failures: it closes the run of failures that throttling counts. */
export interface LoginSucceeded {
  type: 'LoginSucceeded';
  data: { username: string; address: string; at: string };
}
export type LoginEvent = LoginFailed | LoginSucceeded;

// signingkey-<kid>
/** Published in the JWKS from now on; signs nothing before `activateAfter`. */
export interface SigningKeyGenerated {
  type: 'SigningKeyGenerated';
  data: { kid: string; alg: 'ES256'; publicJwk: Record<string, unknown>; activateAfter?: string };
}
/** New tokens are signed with this key from now on. */
export interface SigningKeyActivated {
  type: 'SigningKeyActivated';
  data: { kid: string };
}
/** A newer key took over; this one still verifies the tokens it signed until `retireAfter`. */
export interface SigningKeyRotated {
  type: 'SigningKeyRotated';
  data: { kid: string; supersededBy: string; retireAfter: string };
}
/** Gone from the JWKS; tokens it signed are refused. */
export interface SigningKeyRetired {
  type: 'SigningKeyRetired';
  data: { kid: string };
}
export type SigningKeyEvent = SigningKeyGenerated | SigningKeyActivated | SigningKeyRotated | SigningKeyRetired;

// grant-<grantId>: one authorization, from the request to the tokens issued under it
export interface AuthorizationRequested {
  type: 'AuthorizationRequested';
  data: {
    grantId: string;
    clientId: string;
    redirectUri: string;
    /** Whether the client sent redirect_uri; if it did, the token request must repeat it (RFC 6749 4.1.3). */
    redirectUriSent: boolean;
    scopes: string[];
    state: string | null;
    codeChallenge: string;
    codeChallengeMethod: 'S256';
    /** SHA-256 of the browser session that started the request: login and consent must come from it. */
    browserSessionHash: string;
    expiresAt: string;
  };
}
export interface UserAuthenticated {
  type: 'UserAuthenticated';
  data: { grantId: string; userId: string; username: string; method: 'password' };
}
export interface ConsentGranted {
  type: 'ConsentGranted';
  data: { grantId: string; userId: string; clientId: string; scopes: string[] };
}
export interface ConsentDenied {
  type: 'ConsentDenied';
  data: { grantId: string; userId: string; clientId: string };
}
export interface AuthorizationCodeIssued {
  type: 'AuthorizationCodeIssued';
  data: { grantId: string; codeHash: string; expiresAt: string };
}
export interface AuthorizationCodeRedeemed {
  type: 'AuthorizationCodeRedeemed';
  data: { grantId: string; clientId: string };
}
export interface AccessTokenIssued {
  type: 'AccessTokenIssued';
  data: {
    grantId: string;
    grantType: 'authorization_code' | 'refresh_token' | 'client_credentials';
    jti: string;
    kid: string;
    clientId: string;
    /** Null for client_credentials: the client acts for itself. */
    userId: string | null;
    audience: string;
    scopes: string[];
    issuedAt: string;
    expiresAt: string;
  };
}
export interface RefreshTokenIssued {
  type: 'RefreshTokenIssued';
  data: { grantId: string; tokenHash: string; expiresAt: string };
}
/** The presented refresh token is spent; its successor was issued in the same append. */
export interface RefreshTokenRotated {
  type: 'RefreshTokenRotated';
  data: { grantId: string; previousTokenHash: string };
}
export interface RefreshTokenReuseDetected {
  type: 'RefreshTokenReuseDetected';
  data: { grantId: string; clientId: string; tokenHash: string };
}
export interface AuthorizationCodeReplayDetected {
  type: 'AuthorizationCodeReplayDetected';
  data: { grantId: string; clientId: string };
}
export interface TokenRevoked {
  type: 'TokenRevoked';
  data: { grantId: string; jti: string; by: string };
}
export interface GrantRevoked {
  type: 'GrantRevoked';
  data: {
    grantId: string;
    reason: 'refresh_token_reuse' | 'authorization_code_replay' | 'refresh_token_revoked' | 'revoked_by_user';
    by: string;
    clientId: string;
    userId: string | null;
  };
}
export type GrantEvent =
  | AuthorizationRequested
  | UserAuthenticated
  | ConsentGranted
  | ConsentDenied
  | AuthorizationCodeIssued
  | AuthorizationCodeRedeemed
  | AccessTokenIssued
  | RefreshTokenIssued
  | RefreshTokenRotated
  | RefreshTokenReuseDetected
  | AuthorizationCodeReplayDetected
  | TokenRevoked
  | GrantRevoked;

export type OAuthEvent = ClientEvent | UserEvent | LoginEvent | SigningKeyEvent | GrantEvent;

export const streams = {
  client: (clientId: string) => `client-${clientId}`,
  user: (username: string) => `user-${username.toLowerCase()}`,
  login: (usernameHash: string) => `login-${usernameHash}`,
  signingKey: (kid: string) => `signingkey-${kid}`,
  grant: (grantId: string) => `grant-${grantId}`,
};
