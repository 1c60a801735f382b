import type { ClientDocument, ResourceServerDocument, PendingBackChannelLogout, RecentAuthorization, SigningKeyDocument, UserDocument, UserGrant, UserSignInSession } from './documents.js';

/**
 * What validating an access token asks of the read side, at the authorization server
 * (introspection) and at the resource server alike.
 */
export interface TokenReadModel {
  /** A key that verifies tokens now (published, active or superseded); undefined for a retired or unknown one. */
  verificationKey(kid: string): SigningKeyDocument | undefined;
  /** Whether this access token, or the grant it was issued under, was revoked. */
  tokenRevoked(jti: string, grantId: string): boolean;
  /**
   * Whether the user or the client a token was issued to has been disabled since: such a
   * token is served and introspected as revoked, whatever its grant says. A user or client
   * the read side does not know (yet) is not disabled: the token's signature vouches for it.
   */
  holderDisabled(userId: string | null, clientId: string | null): boolean;
  userById(userId: string): UserDocument | undefined;
}

/**
 * The questions the write side (commands, routes, the key lifecycle) asks of the read
 * side: one narrow port it owns, implemented from the projections where the server is
 * put together (src/system). Answers are as fresh as the read side, which follows the
 * store; what must be exact (a grant's state, a sign-in session) is read from the store.
 */
export interface ReadModel extends TokenReadModel {
  /** A registered client, disabled or not (for names on pages). */
  client(clientId: string): ClientDocument | undefined;
  /** A client that may act: registered and not disabled. */
  activeClient(clientId: string): ClientDocument | undefined;
  clients(): ClientDocument[];
  /** When the client was first issued an access token; undefined if it never was (unused). */
  firstTokenIssuedTo(clientId: string): string | undefined;
  userByUsername(username: string): UserDocument | undefined;
  /** A registered resource server, by its URI (the resource indicator), disabled or not. */
  resourceServer(uri: string): ResourceServerDocument | undefined;
  resourceServers(): ResourceServerDocument[];
  signingKeys(): SigningKeyDocument[];
  /** Every key that verifies now: announced before it signs, kept until its tokens expired. */
  verificationKeys(): SigningKeyDocument[];
  /** The key that signs now with this algorithm (ES256 unless said): the newest active one. */
  activeSigningKey(alg?: SigningKeyDocument['alg']): SigningKeyDocument | undefined;
  /** The grants a user gave that can still act at this time. */
  liveGrantsOf(userId: string, now: Date): UserGrant[];
  /** The user's sign-in sessions that have not ended, expired ones included, oldest first. */
  signInSessionsOf(userId: string): UserSignInSession[];
  /** The user's sign-in sessions live at this time, newest first. */
  liveSignInSessionsOf(userId: string, now: Date): UserSignInSession[];
  /**
   * The authorizations the user decided since this time (at most RECENT_AUTHORIZATIONS_SECONDS
   * back), oldest first: what the authorization limit counts.
   */
  recentAuthorizationsOf(userId: string, since: Date): RecentAuthorization[];
  /** The back-channel logouts owed: clients that got an ID token in a sign-in session since ended, not told yet. */
  pendingBackChannelLogouts(): PendingBackChannelLogout[];
  /** Resolves once the read side has applied the store up to this position: to show one's own writes. */
  waitFor(position: number): Promise<void>;
}
