import type { SnapshotCodec } from '../decider.js';
import type { AuthorizationRequested, DeviceAuthorizationRequested, GrantEvent, UserAuthenticated } from '../events.js';
import { emptyGrowOnlyMap, entriesOf, getIn, growOnlyMapOf, putIn, retainIn, type GrowOnlyMap } from '../grow-only-map.js';

/**
 * What one authorization grant knows, from the authorization request through login,
 * consent and the code to every token issued under it, refreshed, and revoked (RFC 6749
 * sections 4.1, 4.4 and 6, RFC 7636, RFC 7009, RFC 9700 section 4.14, RFC 8628), and how each of
 * its events changes it.
 */

export interface AccessTokenState {
  expiresAt: string;
  revoked: boolean;
}

/** A device's request (RFC 8628): its codes' hashes, until when they are good, and how often it may poll. */
export type DeviceRequest = Pick<DeviceAuthorizationRequested['data'], 'deviceCodeHash' | 'userCodeHash' | 'expiresAt' | 'interval' | 'resources'>;

export interface GrantState {
  status: 'none' | 'requested' | 'device_pending' | 'authenticated' | 'denied' | 'code_issued' | 'device_approved' | 'redeemed' | 'client_credentials';
  grantId: string | null;
  request: AuthorizationRequested['data'] | null;
  /** For the device authorization grant, in place of `request`. */
  device: DeviceRequest | null;
  clientId: string | null;
  userId: string | null;
  username: string | null;
  /** How the user signed in for it: what an ID token says of the authentication (amr, acr, auth_time, sid). */
  signIn: Pick<UserAuthenticated['data'], 'method' | 'signInSessionId' | 'authTime'> | null;
  scopes: string[];
  codeHash: string | null;
  codeExpiresAt: string | null;
  refreshTokenHash: string | null;
  refreshTokenExpiresAt: string | null;
  /** The DPoP key the current refresh token is bound to (a public client's, RFC 9449 section 5): only a proof by it refreshes. */
  refreshTokenJkt: string | null;
  /** A FAPI 2.0 client's last rotation: its spent token may be presented once more, until then, with that key (RFC 9700's reuse rule set aside for it alone). */
  refreshRetry: { previousTokenHash: string; until: string; jkt: string | null; used: boolean } | null;
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
  device: null,
  clientId: null,
  userId: null,
  username: null,
  signIn: null,
  scopes: [],
  codeHash: null,
  codeExpiresAt: null,
  refreshTokenHash: null,
  refreshTokenExpiresAt: null,
  refreshTokenJkt: null,
  refreshRetry: null,
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
      return {
        ...state,
        status: 'authenticated',
        userId: event.data.userId,
        username: event.data.username,
        signIn: { method: event.data.method, ...(event.data.signInSessionId ? { signInSessionId: event.data.signInSessionId } : {}), ...(event.data.authTime ? { authTime: event.data.authTime } : {}) },
      };
    case 'ConsentGranted':
      return { ...state, scopes: event.data.scopes };
    case 'ConsentDenied':
      return { ...state, status: 'denied' };
    case 'AuthorizationCodeIssued':
      return { ...state, status: 'code_issued', codeHash: event.data.codeHash, codeExpiresAt: event.data.expiresAt };
    case 'AuthorizationCodeRedeemed':
    case 'DeviceCodeRedeemed':
      return { ...state, status: 'redeemed' };
    case 'DeviceAuthorizationRequested': {
      const { grantId, clientId, scopes, deviceCodeHash, userCodeHash, expiresAt, interval, resources } = event.data;
      return { ...state, status: 'device_pending', grantId, clientId, scopes, device: { deviceCodeHash, userCodeHash, expiresAt, interval, ...(resources ? { resources } : {}) } };
    }
    case 'DeviceCodeApproved':
      return { ...state, status: 'device_approved' };
    case 'AccessTokenIssued': {
      const token = event.data;
      const base = token.grantType === 'client_credentials'
        ? { status: 'client_credentials' as const, grantId: token.grantId, clientId: token.clientId, scopes: token.scopes }
        : {};
      return forgetExpired({ ...state, ...base, accessTokens: putIn(state.accessTokens, token.jti, token.expiresAt) }, token.issuedAt);
    }
    case 'RefreshTokenIssued':
      return { ...state, refreshTokenHash: event.data.tokenHash, refreshTokenExpiresAt: event.data.expiresAt, refreshTokenJkt: event.data.jkt ?? null };
    case 'RefreshTokenRotated':
      return {
        ...state,
        refreshTokenHash: null,
        refreshTokenExpiresAt: null,
        // An empty expiry (a rotation with none known) is already past: expired, never reuse.
        spentRefreshTokenHashes: putIn(state.spentRefreshTokenHashes, event.data.previousTokenHash, state.refreshTokenExpiresAt ?? ''),
        refreshRetry: event.data.retry ? { previousTokenHash: event.data.previousTokenHash, until: event.data.retry.until, jkt: event.data.retry.jkt ?? null, used: false } : null,
      };
    case 'RefreshTokenRetried':
      return state.refreshRetry ? { ...state, refreshRetry: { ...state.refreshRetry, used: true } } : state;
    case 'IdTokenIssued':
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
export const grantSnapshot: SnapshotCodec<GrantState> = {
  kind: 'grant/5',
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

/** One access token of this grant: when it expires and whether it was revoked on its own; undefined if not issued here. */
export function accessTokenStatus(state: GrantState, jti: string): AccessTokenState | undefined {
  const expiresAt = getIn(state.accessTokens, jti);
  if (expiresAt === undefined) return undefined;
  return { expiresAt, revoked: getIn(state.revokedAccessTokens, jti) !== undefined };
}
