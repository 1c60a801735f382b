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
    tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
    grantTypes: string[];
  };
}
export type ClientEvent = ClientRegistered;

// user-<username>
export interface UserRegistered {
  type: 'UserRegistered';
  data: { userId: string; username: string; name: string; email: string | null };
}
export type UserEvent = UserRegistered;

// signingkey-<kid>
export interface SigningKeyGenerated {
  type: 'SigningKeyGenerated';
  data: { kid: string; alg: 'ES256'; publicJwk: Record<string, unknown> };
}
export interface SigningKeyActivated {
  type: 'SigningKeyActivated';
  data: { kid: string };
}
export type SigningKeyEvent = SigningKeyGenerated | SigningKeyActivated;

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
    jti: string;
    kid: string;
    clientId: string;
    userId: string;
    audience: string;
    scopes: string[];
    issuedAt: string;
    expiresAt: string;
  };
}
export type GrantEvent =
  | AuthorizationRequested
  | UserAuthenticated
  | ConsentGranted
  | ConsentDenied
  | AuthorizationCodeIssued
  | AuthorizationCodeRedeemed
  | AccessTokenIssued;

export type OAuthEvent = ClientEvent | UserEvent | SigningKeyEvent | GrantEvent;

export const streams = {
  client: (clientId: string) => `client-${clientId}`,
  user: (username: string) => `user-${username.toLowerCase()}`,
  signingKey: (kid: string) => `signingkey-${kid}`,
  grant: (grantId: string) => `grant-${grantId}`,
};
