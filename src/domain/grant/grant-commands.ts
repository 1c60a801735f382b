import type { AuthorizationRequested, GrantRevoked } from '../events.js';

/** What the grant's decider is asked to decide, and what comes in with it from outside. */

/** What the handler prepares for a new access token: ids and keys come from outside. */
export interface NewAccessToken {
  jti: string;
  kid: string;
  /** Who the token is for when neither the grant nor the request names a resource: the client's default. */
  defaultAudience: string;
  ttlSeconds: number;
  /** The DPoP key the request proved (RFC 9449): the token is bound to it. */
  jkt?: string;
}
/** An ID token comes with the access token when the grant has `openid`: it lives this long. */
export interface NewIdToken {
  ttlSeconds: number;
  /** The key it is signed with: of the algorithm the client registered. */
  kid: string;
}
export interface NewRefreshToken {
  hash: string;
  ttlSeconds: number;
  /** A public client's refresh token is bound to the DPoP key it proved (RFC 9449 section 5). */
  jkt?: string;
}

/** Who signed in for an authorization, as UserAuthenticated records it. */
export interface SignedIn {
  userId: string;
  username: string;
  /** A password typed for this authorization, or the browser's sign-in session standing in for it. */
  method: 'password' | 'session';
  /** The sign-in session the password started, or the one that stood in: its stream is session-<id>. */
  signInSessionId?: string;
  /** When the user last gave the password (ISO): OpenID Connect's auth_time. */
  authTime?: string;
}

/**
 * An authorization on its way to the user's decision: the request, and once someone has
 * signed in for it, who. Nothing of it is recorded until the decision (consent given or
 * denied), which records all of it in one append; until then the browser holds it
 * (src/gateway/held-authorization.ts), so a request nobody decides leaves no event.
 */
export interface HeldAuthorization {
  request: AuthorizationRequested['data'];
  signedIn?: SignedIn;
}

/** The request as recorded: what the client sent, and how long the user has to sign in and decide. */
export const authorizationRequest = (request: Omit<AuthorizationRequested['data'], 'expiresAt'>, now: Date, ttlSeconds: number): AuthorizationRequested['data'] => ({
  ...request,
  expiresAt: later(now, ttlSeconds),
});

export type GrantCommand =
  | {
      /** On the consent page, or at /authorize with the consent of an earlier grant still standing (rememberedFrom). */
      kind: 'GrantConsent';
      held: Required<HeldAuthorization>;
      browserSessionHash: string;
      codeHash: string;
      now: Date;
      codeTtlSeconds: number;
      rememberedFrom?: string;
    }
  | { kind: 'DenyConsent'; held: Required<HeldAuthorization>; browserSessionHash: string; now: Date }
  | {
      kind: 'RedeemAuthorizationCode';
      codeHash: string;
      clientId: string;
      redirectUri: string | undefined;
      codeVerifier: string;
      /** RFC 8707 resource parameters at the token endpoint: some of those granted, for this token. */
      resources?: string[];
      now: Date;
      token: NewAccessToken;
      /** Absent when the client may not refresh. */
      refreshToken?: NewRefreshToken;
      idToken: NewIdToken;
    }
  | {
      kind: 'RefreshAccessToken';
      refreshTokenHash: string;
      clientId: string;
      /** A narrower scope than granted, or undefined for the same (RFC 6749 section 6). */
      scopes: string[] | undefined;
      /** A FAPI 2.0 client's: how long its spent token may be retried (its successor is derived from it, so the same one can be given again). */
      retryWindowSeconds?: number;
      /** RFC 8707 resource parameters at the token endpoint: some of those granted, for this token. */
      resources?: string[];
      now: Date;
      token: NewAccessToken;
      refreshToken: NewRefreshToken;
      idToken: NewIdToken;
    }
  | { kind: 'IssueClientCredentialsToken'; grantId: string; clientId: string; scopes: string[]; resources?: string[]; now: Date; token: NewAccessToken }
  | { kind: 'RevokeAccessToken'; jti: string; clientId: string; by: string; now: Date }
  | { kind: 'RevokeRefreshToken'; refreshTokenHash: string; clientId: string; by: string }
  | { kind: 'RevokeGrant'; reason: GrantRevoked['data']['reason']; by: string; userId?: string }
  | DeviceGrantCommand;

/** RFC 8628: the device's request, the user's decision on the verification page, and the device's poll. */
export type DeviceGrantCommand =
  | {
      kind: 'RequestDeviceAuthorization';
      grantId: string;
      clientId: string;
      scopes: string[];
      /** RFC 8707: the resource servers asked for, or the client's default. */
      resources?: string[];
      deviceCodeHash: string;
      userCodeHash: string;
      now: Date;
      ttlSeconds: number;
      intervalSeconds: number;
    }
  | { kind: 'ApproveDeviceAuthorization'; userCodeHash: string; signedIn: SignedIn; now: Date }
  | { kind: 'DenyDeviceAuthorization'; userCodeHash: string; signedIn: SignedIn; now: Date }
  | {
      kind: 'RedeemDeviceCode';
      deviceCodeHash: string;
      clientId: string;
      /** RFC 8707 resource parameters at the token endpoint: some of those granted, for this token. */
      resources?: string[];
      now: Date;
      /**
       * This instance's memory of the device's last poll and the interval it must now keep
       * (longer after each slow_down); absent for its first poll here.
       */
      lastPoll?: { at: Date; intervalSeconds: number };
      token: NewAccessToken;
      /** Absent when the client may not refresh. */
      refreshToken?: NewRefreshToken;
      idToken: NewIdToken;
    };


/** A time this many seconds after `now`, as events record times (ISO 8601, UTC). */
export const later = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
