import type { ClientDeleted, ClientRegistered, SigningKeyGenerated, UserRegistered } from '../domain/events.js';

/**
 * What the read side holds, as the write side and the servers read it. The projections
 * (projections/) fold events into these shapes; this side owns them, so nothing here
 * depends on how they are folded or stored.
 */

export type ClientDocument = ClientRegistered['data'] & {
  disabled?: true;
  /** A new document at each rotation is also what tells caches of the secret's hash to look again. */
  secretRotatedAt?: string;
  /** When it was registered (the sweep of unused dynamic clients counts from it). */
  registeredAt?: string;
  /** Deleted (RFC 7592, or swept unused): also `disabled`, so everything that refuses a disabled client refuses it. */
  deleted?: { at: string; reason: ClientDeleted['data']['reason'] };
};

/** When a client was first issued an access token: a client that never was is unused. */
export interface ClientUsageDocument {
  firstTokenIssuedAt: string;
}

export type UserDocument = UserRegistered['data'] & {
  disabled?: true;
  /** When the user's claims last changed (their registration): UserInfo's updated_at. */
  updatedAt?: string;
};

export interface SigningKeyDocument {
  kid: string;
  alg: SigningKeyGenerated['data']['alg'];
  publicJwk: Record<string, unknown>;
  /** published: announced, signs nothing yet; active: signs; superseded: verifies only; retired: refused. */
  status: 'published' | 'active' | 'superseded' | 'retired';
  activateAfter: string | null;
  activatedAt: string | null;
  retireAfter: string | null;
}

/** A resource server tokens may be issued for (RFC 8707): its URI is their `aud`. */
export interface ResourceServerDocument {
  uri: string;
  name: string;
  scopes: string[];
  disabled?: true;
}

/** A grant a user gave a client, while it can still act. */
export interface UserGrant {
  grantId: string;
  clientId: string;
  scopes: string[];
  /** The resource servers it may get tokens for (RFC 8707); absent on grants from before. */
  resources?: string[];
  grantedAt: string;
  /**
   * Until when the grant can still act: the latest expiry of its code, refresh tokens and
   * access tokens. Unknown (absent) for grants recorded before their code and refresh
   * token events named the user: those are kept.
   */
  aliveUntil?: string;
}

/** One of a user's sign-in sessions that has not ended. */
export interface UserSignInSession {
  /** The hash of the browser's cookie that names the session's stream: never the cookie itself. */
  signInSessionId: string;
  authTime: string;
  expiresAt: string;
}

/** How far back the read side keeps a user's authorizations (for the authorization limit). */
export const RECENT_AUTHORIZATIONS_SECONDS = 10 * 60;

/** One authorization a user decided (consent given or denied), as recorded. */
export interface RecentAuthorization {
  clientId: string;
  at: string;
}

/** A client owed a back-channel logout: it got an ID token in a sign-in session that has ended. */
export interface PendingBackChannelLogout {
  signInSessionId: string;
  userId: string;
  clientId: string;
  endedAt: string;
}
