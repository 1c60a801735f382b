import { RefusedWithEvents, type Decider, type SnapshotCodec } from './decider.js';
import { constantTimeEqual } from './crypto.js';
import { emptyGrowOnlyMap, entriesOf, getIn, growOnlyMapOf, putIn, retainIn, type GrowOnlyMap } from './grow-only-map.js';
import type { AccessTokenIssued, AuthorizationRequested, GrantEvent, GrantRevoked } from './events.js';
import { InvalidGrant, InvalidRequest, InvalidScope } from './oauth-errors.js';
import { verifiesS256 } from './pkce.js';

/**
 * One authorization grant, from the authorization request through login, consent and
 * the code to every token issued under it, refreshed, and revoked (RFC 6749 sections
 * 4.1, 4.4 and 6, RFC 7636, RFC 7009, RFC 9700 section 4.14).
 */

/** What the handler prepares for a new access token: ids and keys come from outside. */
export interface NewAccessToken {
  jti: string;
  kid: string;
  audience: string;
  ttlSeconds: number;
}
export interface NewRefreshToken {
  hash: string;
  ttlSeconds: number;
}

/** Who signed in for an authorization, as UserAuthenticated records it. */
export interface SignedIn {
  userId: string;
  username: string;
  /** A password typed for this authorization, or the browser's sign-in session standing in for it. */
  method: 'password' | 'session';
  /** The sign-in session the password started, or the one that stood in: its stream is session-<id>. */
  signInSessionId?: string;
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
      now: Date;
      token: NewAccessToken;
      /** Absent when the client may not refresh. */
      refreshToken?: NewRefreshToken;
    }
  | {
      kind: 'RefreshAccessToken';
      refreshTokenHash: string;
      clientId: string;
      /** A narrower scope than granted, or undefined for the same (RFC 6749 section 6). */
      scopes: string[] | undefined;
      now: Date;
      token: NewAccessToken;
      refreshToken: NewRefreshToken;
    }
  | { kind: 'IssueClientCredentialsToken'; grantId: string; clientId: string; scopes: string[]; now: Date; token: NewAccessToken }
  | { kind: 'RevokeAccessToken'; jti: string; clientId: string; by: string; now: Date }
  | { kind: 'RevokeRefreshToken'; refreshTokenHash: string; clientId: string; by: string }
  | { kind: 'RevokeGrant'; reason: GrantRevoked['data']['reason']; by: string; userId?: string };

export interface AccessTokenState {
  expiresAt: string;
  revoked: boolean;
}

export interface GrantState {
  status: 'none' | 'requested' | 'authenticated' | 'denied' | 'code_issued' | 'redeemed' | 'client_credentials';
  grantId: string | null;
  request: AuthorizationRequested['data'] | null;
  clientId: string | null;
  userId: string | null;
  username: string | null;
  scopes: string[];
  codeHash: string | null;
  codeExpiresAt: string | null;
  refreshTokenHash: string | null;
  refreshTokenExpiresAt: string | null;
  /**
   * Hashes of refresh tokens already rotated, each with the time it would have expired:
   * presenting one again before then means it was stolen. After then it is only expired.
   */
  spentRefreshTokenHashes: GrowOnlyMap<string>;
  /** Expiry of each access token issued under the grant, by jti (the expired ones leave in time). */
  accessTokens: GrowOnlyMap<string>;
  /** The access tokens revoked one by one (revoking the grant covers all the others). */
  revokedAccessTokens: GrowOnlyMap<true>;
  revoked: boolean;
}

export const initialGrantState: GrantState = {
  status: 'none',
  grantId: null,
  request: null,
  clientId: null,
  userId: null,
  username: null,
  scopes: [],
  codeHash: null,
  codeExpiresAt: null,
  refreshTokenHash: null,
  refreshTokenExpiresAt: null,
  spentRefreshTokenHashes: emptyGrowOnlyMap(),
  accessTokens: emptyGrowOnlyMap(),
  revokedAccessTokens: emptyGrowOnlyMap(),
  revoked: false,
};

export function evolveGrant(state: GrantState, event: GrantEvent): GrantState {
  switch (event.type) {
    case 'AuthorizationRequested':
      return { ...state, status: 'requested', grantId: event.data.grantId, request: event.data, clientId: event.data.clientId };
    case 'UserAuthenticated':
      return { ...state, status: 'authenticated', userId: event.data.userId, username: event.data.username };
    case 'ConsentGranted':
      return { ...state, scopes: event.data.scopes };
    case 'ConsentDenied':
      return { ...state, status: 'denied' };
    case 'AuthorizationCodeIssued':
      return { ...state, status: 'code_issued', codeHash: event.data.codeHash, codeExpiresAt: event.data.expiresAt };
    case 'AuthorizationCodeRedeemed':
      return { ...state, status: 'redeemed' };
    case 'AccessTokenIssued': {
      const token = event.data;
      const base = token.grantType === 'client_credentials'
        ? { status: 'client_credentials' as const, grantId: token.grantId, clientId: token.clientId, scopes: token.scopes }
        : {};
      return forgetExpired({ ...state, ...base, accessTokens: putIn(state.accessTokens, token.jti, token.expiresAt) }, token.issuedAt);
    }
    case 'RefreshTokenIssued':
      return { ...state, refreshTokenHash: event.data.tokenHash, refreshTokenExpiresAt: event.data.expiresAt };
    case 'RefreshTokenRotated':
      return {
        ...state,
        refreshTokenHash: null,
        refreshTokenExpiresAt: null,
        // An empty expiry (a rotation with none known) is already past: expired, never reuse.
        spentRefreshTokenHashes: putIn(state.spentRefreshTokenHashes, event.data.previousTokenHash, state.refreshTokenExpiresAt ?? ''),
      };
    case 'RefreshTokenReuseDetected':
    case 'AuthorizationCodeReplayDetected':
      return state;
    case 'TokenRevoked': {
      const { jti } = event.data;
      return accessTokenStatus(state, jti) ? { ...state, revokedAccessTokens: putIn(state.revokedAccessTokens, jti, true) } : state;
    }
    case 'GrantRevoked':
      return { ...state, revoked: true, refreshTokenHash: null, refreshTokenExpiresAt: null };
  }
}

const later = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();

/**
 * A grant used for months is refreshed thousands of times; its state keeps only what can
 * still matter: access tokens not yet expired (an expired one is inactive and revoking it
 * does nothing) and spent refresh tokens that would not have expired yet (reuse detection
 * lasts as long as the token would have). Each map is sifted when its size reaches a
 * power of two from 64 on, so it holds at most about twice what is live and the work is
 * constant per token on average; at an access token's issue time (every refresh issues
 * one), so a grant folded again from its stream comes out the same.
 */
const timeToForget = (size: number) => size >= 64 && (size & (size - 1)) === 0;

function forgetExpired(state: GrantState, at: string): GrantState {
  let next = state;
  if (timeToForget(state.accessTokens.size)) {
    const accessTokens = retainIn(state.accessTokens, (_jti, expiresAt) => expiresAt > at);
    next = { ...next, accessTokens, revokedAccessTokens: retainIn(state.revokedAccessTokens, (jti) => getIn(accessTokens, jti) !== undefined) };
  }
  if (timeToForget(state.spentRefreshTokenHashes.size)) {
    next = { ...next, spentRefreshTokenHashes: retainIn(state.spentRefreshTokenHashes, (_hash, expiresAt) => expiresAt > at) };
  }
  return next;
}

/** Step 2 done and step 3: the consent on record, and the code issued for it. */
function consentAndCode(
  request: Pick<AuthorizationRequested['data'], 'grantId' | 'clientId' | 'scopes'>,
  userId: string,
  codeHash: string,
  expiresAt: string,
  rememberedFrom?: string,
): GrantEvent[] {
  const consent = { grantId: request.grantId, userId, clientId: request.clientId, scopes: request.scopes, ...(rememberedFrom ? { rememberedFrom } : {}) };
  return [
    { type: 'ConsentGranted', data: consent },
    { type: 'AuthorizationCodeIssued', data: { grantId: request.grantId, codeHash, expiresAt, userId } },
  ];
}

/**
 * The user's decision must come from the browser that made the request, before it expires,
 * and only once: it starts the grant's stream.
 */
function decisionOn(state: GrantState, held: Required<HeldAuthorization>, browserSessionHash: string, now: Date): Required<HeldAuthorization> {
  if (state.status !== 'none') throw new InvalidRequest('this authorization was already decided');
  if (!constantTimeEqual(held.request.browserSessionHash, browserSessionHash)) {
    throw new InvalidRequest('this authorization request belongs to another browser session');
  }
  if (now.toISOString() >= held.request.expiresAt) throw new InvalidRequest('the authorization request has expired');
  return held;
}

/** Steps 1 and 2 on record, with the decision that follows them in the same append. */
function requestAndSignIn(request: AuthorizationRequested['data'], { userId, username, method, signInSessionId }: SignedIn): GrantEvent[] {
  return [
    { type: 'AuthorizationRequested', data: request },
    { type: 'UserAuthenticated', data: { grantId: request.grantId, userId, username, method, ...(signInSessionId ? { signInSessionId } : {}) } },
  ];
}

function accessTokenIssued(
  state: Pick<GrantState, 'grantId' | 'clientId' | 'userId'>,
  grantType: AccessTokenIssued['data']['grantType'],
  scopes: string[],
  token: NewAccessToken,
  now: Date,
): AccessTokenIssued {
  return {
    type: 'AccessTokenIssued',
    data: {
      grantId: state.grantId!,
      grantType,
      jti: token.jti,
      kid: token.kid,
      clientId: state.clientId!,
      userId: state.userId,
      audience: token.audience,
      scopes,
      issuedAt: now.toISOString(),
      expiresAt: later(now, token.ttlSeconds),
    },
  };
}

const grantRevoked = (state: GrantState, reason: GrantRevoked['data']['reason'], by: string): GrantRevoked => ({
  type: 'GrantRevoked',
  data: { grantId: state.grantId!, reason, by, clientId: state.clientId!, userId: state.userId, accessTokensExpireBy: lastExpiry(state.accessTokens) },
});

/** When the last of these access tokens expires; null when there are none. ISO times in UTC compare as strings. */
function lastExpiry(accessTokens: GrowOnlyMap<string>): string | null {
  let last: string | null = null;
  for (const [, expiresAt] of entriesOf(accessTokens)) if (last === null || expiresAt > last) last = expiresAt;
  return last;
}

/** Revokes the grant and everything issued under it, recording why, then refuses. */
function revokeAndRefuse(state: GrantState, detected: GrantEvent, reason: GrantRevoked['data']['reason'], refusal: Error): never {
  if (state.revoked) throw refusal;
  throw new RefusedWithEvents([detected, grantRevoked(state, reason, 'authorization-server')], refusal);
}

// One message for every way a code or refresh token can be bad: a caller learns nothing about which.
const badCode = () => new InvalidGrant('the authorization code is invalid, expired or already used');
const badRefreshToken = () => new InvalidGrant('the refresh token is invalid, expired or revoked');

export function decideGrant(command: GrantCommand, state: GrantState): GrantEvent[] {
  switch (command.kind) {
    case 'GrantConsent': {
      const { request, signedIn } = decisionOn(state, command.held, command.browserSessionHash, command.now);
      return [
        ...requestAndSignIn(request, signedIn),
        ...consentAndCode(request, signedIn.userId, command.codeHash, later(command.now, command.codeTtlSeconds), command.rememberedFrom),
      ];
    }
    case 'DenyConsent': {
      const { request, signedIn } = decisionOn(state, command.held, command.browserSessionHash, command.now);
      return [...requestAndSignIn(request, signedIn), { type: 'ConsentDenied', data: { grantId: request.grantId, userId: signedIn.userId, clientId: request.clientId } }];
    }
    case 'RedeemAuthorizationCode': {
      const request = state.request;
      if (!request || !state.codeHash || !state.codeExpiresAt || !state.userId) throw badCode();
      if (!constantTimeEqual(state.codeHash, command.codeHash)) throw badCode();
      if (state.status === 'redeemed' && request.clientId === command.clientId) {
        // RFC 6749 section 4.1.2: a code used twice revokes what was issued for it.
        revokeAndRefuse(state, { type: 'AuthorizationCodeReplayDetected', data: { grantId: request.grantId, clientId: command.clientId } }, 'authorization_code_replay', badCode());
      }
      if (state.status !== 'code_issued' || state.revoked) throw badCode();
      if (command.now.toISOString() >= state.codeExpiresAt) throw badCode();
      if (request.clientId !== command.clientId) throw badCode();
      const redirectOk = request.redirectUriSent
        ? command.redirectUri === request.redirectUri
        : command.redirectUri === undefined || command.redirectUri === request.redirectUri;
      if (!redirectOk) throw new InvalidGrant('redirect_uri does not match the authorization request');
      if (!verifiesS256(command.codeVerifier, request.codeChallenge)) throw new InvalidGrant('code_verifier does not match the code_challenge');
      const events: GrantEvent[] = [
        { type: 'AuthorizationCodeRedeemed', data: { grantId: request.grantId, clientId: request.clientId } },
        accessTokenIssued(state, 'authorization_code', state.scopes, command.token, command.now),
      ];
      if (command.refreshToken) {
        events.push({
          type: 'RefreshTokenIssued',
          data: { grantId: request.grantId, tokenHash: command.refreshToken.hash, expiresAt: later(command.now, command.refreshToken.ttlSeconds), userId: state.userId },
        });
      }
      return events;
    }
    case 'RefreshAccessToken': {
      if (!state.grantId || state.clientId !== command.clientId) throw badRefreshToken();
      // A map lookup, not a constant-time comparison with each: these are SHA-256 hashes of
      // 256-bit random tokens, so timing could only hint at a hash, never at a token.
      const spentUntil = getIn(state.spentRefreshTokenHashes, command.refreshTokenHash);
      // Whether or not the state has forgotten it yet, a spent token past its expiry is only expired.
      if (spentUntil !== undefined && command.now.toISOString() < spentUntil) {
        revokeAndRefuse(
          state,
          { type: 'RefreshTokenReuseDetected', data: { grantId: state.grantId, clientId: command.clientId, tokenHash: command.refreshTokenHash } },
          'refresh_token_reuse',
          badRefreshToken(),
        );
      }
      if (state.revoked || !state.refreshTokenHash || !state.refreshTokenExpiresAt) throw badRefreshToken();
      if (!constantTimeEqual(state.refreshTokenHash, command.refreshTokenHash)) throw badRefreshToken();
      if (command.now.toISOString() >= state.refreshTokenExpiresAt) throw badRefreshToken();
      const scopes = command.scopes ?? state.scopes;
      const wider = scopes.filter((s) => !state.scopes.includes(s));
      if (wider.length > 0) throw new InvalidScope(`scope exceeds what was granted: ${wider.join(' ')}`);
      return [
        { type: 'RefreshTokenRotated', data: { grantId: state.grantId, previousTokenHash: state.refreshTokenHash } },
        {
          type: 'RefreshTokenIssued',
          data: { grantId: state.grantId, tokenHash: command.refreshToken.hash, expiresAt: later(command.now, command.refreshToken.ttlSeconds), ...(state.userId ? { userId: state.userId } : {}) },
        },
        accessTokenIssued(state, 'refresh_token', scopes, command.token, command.now),
      ];
    }
    case 'IssueClientCredentialsToken': {
      if (state.status !== 'none') throw new InvalidRequest('grant already exists');
      return [accessTokenIssued({ grantId: command.grantId, clientId: command.clientId, userId: null }, 'client_credentials', command.scopes, command.token, command.now)];
    }
    case 'RevokeAccessToken': {
      const token = accessTokenStatus(state, command.jti);
      // RFC 7009 section 2.2: revoking what is unknown or already revoked is a success with no
      // effect; so is another client's token, which this client must not learn about.
      // So is an expired one, which the state forgets in time.
      if (!state.grantId || !token || token.revoked || token.expiresAt <= command.now.toISOString() || state.revoked || state.clientId !== command.clientId) return [];
      return [{ type: 'TokenRevoked', data: { grantId: state.grantId, jti: command.jti, by: command.by, expiresAt: token.expiresAt } }];
    }
    case 'RevokeRefreshToken': {
      // RFC 7009 section 2.1: revoking a refresh token revokes the grant's access tokens too.
      if (!state.grantId || state.revoked || state.clientId !== command.clientId) return [];
      if (!state.refreshTokenHash || !constantTimeEqual(state.refreshTokenHash, command.refreshTokenHash)) return [];
      return [grantRevoked(state, 'refresh_token_revoked', command.by)];
    }
    case 'RevokeGrant': {
      if (!state.grantId) throw new InvalidRequest('unknown grant');
      if (command.userId !== undefined && command.userId !== state.userId) throw new InvalidRequest('unknown grant');
      if (state.revoked) return [];
      return [grantRevoked(state, command.reason, command.by)];
    }
  }
}

type EncodedGrantState = Omit<GrantState, 'spentRefreshTokenHashes' | 'accessTokens' | 'revokedAccessTokens'> & {
  spentRefreshTokenHashes: Array<[string, string]>;
  accessTokens: Array<[string, string]>;
  revokedAccessTokens: string[];
};

/**
 * A grant's state in a snapshot. Bump the kind's version with any change to GrantState,
 * to evolveGrant or to what it calls: snapshots of an older kind are then ignored
 * (test/unit/snapshot-kinds.test.ts fails until the kind changes with the rule).
 */
const grantSnapshot: SnapshotCodec<GrantState> = {
  kind: 'grant/1',
  encode: (state): EncodedGrantState => ({
    ...state,
    spentRefreshTokenHashes: [...entriesOf(state.spentRefreshTokenHashes)],
    accessTokens: [...entriesOf(state.accessTokens)],
    revokedAccessTokens: [...entriesOf(state.revokedAccessTokens)].map(([jti]) => jti),
  }),
  decode: (data) => {
    const encoded = data as EncodedGrantState;
    return {
      ...encoded,
      spentRefreshTokenHashes: growOnlyMapOf(encoded.spentRefreshTokenHashes),
      accessTokens: growOnlyMapOf(encoded.accessTokens),
      revokedAccessTokens: growOnlyMapOf(encoded.revokedAccessTokens.map((jti): [string, true] => [jti, true])),
    };
  },
};

export const grantDecider: Decider<GrantCommand, GrantState, GrantEvent> = {
  initialState: initialGrantState,
  evolve: evolveGrant,
  decide: decideGrant,
  snapshot: grantSnapshot,
  // A grant refreshed for a month holds thousands of token ids and spent hashes; a new one, none.
  weigh: (state) => 1 + state.accessTokens.size + state.spentRefreshTokenHashes.size + state.revokedAccessTokens.size,
};

/** One access token of this grant: when it expires and whether it was revoked on its own; undefined if not issued here. */
export function accessTokenStatus(state: GrantState, jti: string): AccessTokenState | undefined {
  const expiresAt = getIn(state.accessTokens, jti);
  if (expiresAt === undefined) return undefined;
  return { expiresAt, revoked: getIn(state.revokedAccessTokens, jti) !== undefined };
}
