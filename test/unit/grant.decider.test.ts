import { sha256 } from '../../src/domain/crypto.js';
import type { GrantEvent } from '../../src/domain/events.js';
import { RefusedWithEvents } from '../../src/domain/decider.js';
import { authorizationRequest, grantDecider, type GrantCommand } from '../../src/domain/grant.js';
import { InvalidGrant, InvalidRequest, InvalidScope } from '../../src/domain/oauth-errors.js';
import { given } from '../support/given-when-then.js';

const t0 = new Date('2026-11-22T10:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const verifier = 'dBjftJeZ4CVP-mJ92K1tjFqTlaDv8eVG9NAGpPI3hHiZ_N1RsO9aVqZrO7sU8cNz';
const browser = sha256('browser-session');
const code = 'g1.the-code';

const requested: GrantEvent = {
  type: 'AuthorizationRequested',
  data: {
    grantId: 'g1', clientId: 'app', redirectUri: 'https://app.example/cb', redirectUriSent: true, scopes: ['profile'],
    state: 'xyz', codeChallenge: sha256(verifier), codeChallengeMethod: 'S256', browserSessionHash: browser,
    expiresAt: at(600).toISOString(),
  },
};
const authenticated: GrantEvent = { type: 'UserAuthenticated', data: { grantId: 'g1', userId: 'u1', username: 'alice', method: 'password' } };
const consented: GrantEvent = { type: 'ConsentGranted', data: { grantId: 'g1', userId: 'u1', clientId: 'app', scopes: ['profile'] } };
const codeIssued: GrantEvent = { type: 'AuthorizationCodeIssued', data: { grantId: 'g1', codeHash: sha256(code), expiresAt: at(120).toISOString(), userId: 'u1' } };
const redeemed: GrantEvent = { type: 'AuthorizationCodeRedeemed', data: { grantId: 'g1', clientId: 'app' } };

const redeem = (overrides: Partial<Extract<GrantCommand, { kind: 'RedeemAuthorizationCode' }>> = {}): GrantCommand => ({
  kind: 'RedeemAuthorizationCode', codeHash: sha256(code), clientId: 'app', redirectUri: 'https://app.example/cb',
  codeVerifier: verifier, now: at(60), token: { jti: 'j1', kid: 'k1', defaultAudience: 'https://rs', ttlSeconds: 300 }, idToken: { ttlSeconds: 300, kid: 'k1' }, ...overrides,
});

describe('grant decider', () => {
  const signedIn = { userId: 'u1', username: 'alice', method: 'password' as const };
  const held = { request: requested.data, signedIn };
  const approve = { kind: 'GrantConsent' as const, held, browserSessionHash: browser, codeHash: sha256(code), now: at(0), codeTtlSeconds: 120 };

  it('shapes the request with the time the user has to sign in and decide', () => {
    const { expiresAt: _, ...request } = requested.data;
    expect(authorizationRequest(request, t0, 600)).toEqual(requested.data);
  });

  it('on consent, records the request, the sign-in and the consent with a code bound to the request, in one decision', () => {
    given(grantDecider, []).when(approve).then([requested, authenticated, consented, codeIssued]);
  });

  it('records which sign-in session stood in for the password, or the one the password started', () => {
    const session = { ...signedIn, method: 'session' as const, signInSessionId: sha256('cookie') };
    given(grantDecider, [])
      .when({ ...approve, held: { ...held, signedIn: session } })
      .then([requested, { type: 'UserAuthenticated', data: { ...authenticated.data, method: 'session', signInSessionId: sha256('cookie') } }, consented, codeIssued]);
  });

  it('with the consent of a grant still standing, records where it came from', () => {
    given(grantDecider, [])
      .when({ ...approve, rememberedFrom: 'g0' })
      .then([requested, authenticated, { type: 'ConsentGranted', data: { ...consented.data, rememberedFrom: 'g0' } }, codeIssued]);
  });

  it('records a denial with the request and the sign-in', () => {
    given(grantDecider, [])
      .when({ kind: 'DenyConsent', held, browserSessionHash: browser, now: at(1) })
      .then([requested, authenticated, { type: 'ConsentDenied', data: { grantId: 'g1', userId: 'u1', clientId: 'app' } }]);
  });

  it('refuses a decision from another browser, or after the request expired', () => {
    given(grantDecider, []).when({ ...approve, browserSessionHash: sha256('other') }).thenRefuses(InvalidRequest, /another browser/);
    given(grantDecider, []).when({ ...approve, now: at(600) }).thenRefuses(InvalidRequest, /expired/);
    given(grantDecider, []).when({ kind: 'DenyConsent', held, browserSessionHash: browser, now: at(601) }).thenRefuses(InvalidRequest, /expired/);
  });

  it('takes a decision once only: the same held authorization again (a second tab, the back button) finds its grant on record', () => {
    given(grantDecider, [requested, authenticated, consented, codeIssued])
      .when({ ...approve, codeHash: sha256('again'), now: at(1) })
      .thenRefuses(InvalidRequest, /already decided/);
    given(grantDecider, [requested, authenticated, consented, codeIssued])
      .when({ kind: 'DenyConsent', held, browserSessionHash: browser, now: at(1) })
      .thenRefuses(InvalidRequest, /already decided/);
    // Recorded by an earlier version, which put the request and the sign-in on record before the decision.
    given(grantDecider, [requested, authenticated]).when(approve).thenRefuses(InvalidRequest, /already decided/);
  });

  it('redeems a valid code once for an access token', () => {
    given(grantDecider, [requested, authenticated, consented, codeIssued]).when(redeem()).then([
      redeemed,
      {
        type: 'AccessTokenIssued',
        data: {
          grantId: 'g1', grantType: 'authorization_code', jti: 'j1', kid: 'k1', clientId: 'app', userId: 'u1', audience: 'https://rs', scopes: ['profile'],
          issuedAt: at(60).toISOString(), expiresAt: at(360).toISOString(),
        },
      },
    ]);
  });

  it.each<[string, Partial<Extract<GrantCommand, { kind: 'RedeemAuthorizationCode' }>>]>([
    ['a wrong code', { codeHash: sha256('g1.other') }],
    ['an expired code', { now: at(120) }],
    ['another client', { clientId: 'intruder' }],
    ['another redirect_uri', { redirectUri: 'https://app.example/other' }],
    ['a missing redirect_uri the request had', { redirectUri: undefined }],
    ['a wrong code_verifier', { codeVerifier: 'x'.repeat(43) }],
    ['a malformed code_verifier', { codeVerifier: 'short' }],
  ])('refuses redemption with %s as invalid_grant', (_what, overrides) => {
    given(grantDecider, [requested, authenticated, consented, codeIssued]).when(redeem(overrides)).thenRefuses(InvalidGrant);
  });

  it('answers a second redemption of the same code with invalid_grant, and revokes the grant first', () => {
    given(grantDecider, [requested, authenticated, consented, codeIssued, redeemed]).when(redeem()).thenRecordsAndRefuses(
      [
        { type: 'AuthorizationCodeReplayDetected', data: { grantId: 'g1', clientId: 'app' } },
        // Only the code had been redeemed when it was replayed: no access token of the grant is out there.
        { type: 'GrantRevoked', data: { grantId: 'g1', reason: 'authorization_code_replay', by: 'authorization-server', clientId: 'app', userId: 'u1', accessTokensExpireBy: null } },
      ],
      InvalidGrant,
    );
  });

  it('does not revoke anything for a wrong code presented after redemption', () => {
    given(grantDecider, [requested, authenticated, consented, codeIssued, redeemed]).when(redeem({ codeHash: sha256('g1.guess') })).thenRefuses(InvalidGrant);
  });

  it('refuses to redeem a code for a denied or unknown grant', () => {
    given(grantDecider, [requested, authenticated, { type: 'ConsentDenied', data: { grantId: 'g1', userId: 'u1', clientId: 'app' } }])
      .when(redeem())
      .thenRefuses(InvalidGrant);
    given(grantDecider, []).when(redeem()).thenRefuses(InvalidGrant);
  });
});

describe('grant decider: tokens after the code', () => {
  const refreshIssued: GrantEvent = { type: 'RefreshTokenIssued', data: { grantId: 'g1', tokenHash: sha256('g1.r1'), expiresAt: at(86_400).toISOString(), userId: 'u1' } };
  const accessIssued: GrantEvent = {
    type: 'AccessTokenIssued',
    data: { grantId: 'g1', grantType: 'authorization_code', jti: 'g1.j1', kid: 'k1', clientId: 'app', userId: 'u1', audience: 'https://rs', scopes: ['profile'], issuedAt: at(60).toISOString(), expiresAt: at(360).toISOString() },
  };
  const issued = [requested, authenticated, consented, codeIssued, redeemed, accessIssued, refreshIssued];
  const rotated: GrantEvent = { type: 'RefreshTokenRotated', data: { grantId: 'g1', previousTokenHash: sha256('g1.r1') } };
  const refreshWith = (token: string, overrides: Partial<Extract<GrantCommand, { kind: 'RefreshAccessToken' }>> = {}): GrantCommand => ({
    kind: 'RefreshAccessToken', refreshTokenHash: sha256(token), clientId: 'app', scopes: undefined, now: at(120),
    token: { jti: 'g1.j2', kid: 'k1', defaultAudience: 'https://rs', ttlSeconds: 300 }, refreshToken: { hash: sha256('g1.r2'), ttlSeconds: 86_400 }, idToken: { ttlSeconds: 300, kid: 'k1' }, ...overrides,
  });
  // When the grant's one access token (j1) expires: after then, nobody needs to remember the revocation.
  const revokedFor = (reason: string) => ({
    type: 'GrantRevoked' as const,
    data: { grantId: 'g1', reason: reason as never, by: 'authorization-server', clientId: 'app', userId: 'u1', accessTokensExpireBy: at(360).toISOString() },
  });

  it('issues a refresh token with the code when asked to', () => {
    const events = grantDecider.decide(redeem({ refreshToken: { hash: sha256('g1.r1'), ttlSeconds: 86_400 } }), issued.slice(0, 4).reduce(grantDecider.evolve, grantDecider.initialState));
    expect(events.map((e) => e.type)).toEqual(['AuthorizationCodeRedeemed', 'AccessTokenIssued', 'RefreshTokenIssued']);
    expect(events[2]).toEqual({ type: 'RefreshTokenIssued', data: { grantId: 'g1', tokenHash: sha256('g1.r1'), expiresAt: at(86_460).toISOString(), userId: 'u1' } });
  });

  it('rotates a refresh token: the old one spent, a new one and an access token issued', () => {
    given(grantDecider, issued).when(refreshWith('g1.r1')).then([
      rotated,
      { type: 'RefreshTokenIssued', data: { grantId: 'g1', tokenHash: sha256('g1.r2'), expiresAt: at(86_520).toISOString(), userId: 'u1' } },
      { type: 'AccessTokenIssued', data: { ...accessIssued.data, grantType: 'refresh_token', jti: 'g1.j2', issuedAt: at(120).toISOString(), expiresAt: at(420).toISOString() } },
    ] as GrantEvent[]);
  });

  it('treats a spent refresh token as stolen: records the reuse, revokes the grant, refuses', () => {
    given(grantDecider, [...issued, rotated]).when(refreshWith('g1.r1')).thenRecordsAndRefuses(
      [{ type: 'RefreshTokenReuseDetected', data: { grantId: 'g1', clientId: 'app', tokenHash: sha256('g1.r1') } }, revokedFor('refresh_token_reuse')],
      InvalidGrant,
    );
  });

  it('refuses a refresh after the grant was revoked, without recording it again', () => {
    given(grantDecider, [...issued, rotated, revokedFor('refresh_token_reuse')]).when(refreshWith('g1.r1')).thenRefuses(InvalidGrant);
    given(grantDecider, [...issued, revokedFor('revoked_by_user')]).when(refreshWith('g1.r1')).thenRefuses(InvalidGrant);
  });

  it.each<[string, Partial<Extract<GrantCommand, { kind: 'RefreshAccessToken' }>>, string]>([
    ['another client', { clientId: 'intruder' }, 'g1.r1'],
    ['an expired refresh token', { now: at(86_460) }, 'g1.r1'],
    ['an unknown refresh token', {}, 'g1.guess'],
  ])('refuses a refresh by %s as invalid_grant', (_what, overrides, token) => {
    given(grantDecider, issued).when(refreshWith(token, overrides)).thenRefuses(InvalidGrant);
  });

  it('narrows scope on refresh and refuses to widen it', () => {
    const events = grantDecider.decide(refreshWith('g1.r1', { scopes: [] }), issued.reduce(grantDecider.evolve, grantDecider.initialState));
    expect((events[2].data as { scopes: string[] }).scopes).toEqual([]);
    given(grantDecider, issued).when(refreshWith('g1.r1', { scopes: ['profile', 'admin'] })).thenRefuses(InvalidScope);
  });

  it('revokes one access token of the client that owns it, and nothing for anyone else', () => {
    const now = at(120);
    given(grantDecider, issued).when({ kind: 'RevokeAccessToken', jti: 'g1.j1', clientId: 'app', by: 'client:app', now })
      .then([{ type: 'TokenRevoked', data: { grantId: 'g1', jti: 'g1.j1', by: 'client:app', expiresAt: at(360).toISOString() } }]);
    given(grantDecider, issued).when({ kind: 'RevokeAccessToken', jti: 'g1.j1', clientId: 'other', by: 'client:other', now }).then([]);
    given(grantDecider, issued).when({ kind: 'RevokeAccessToken', jti: 'g1.unknown', clientId: 'app', by: 'client:app', now }).then([]);
    given(grantDecider, [...issued, { type: 'TokenRevoked', data: { grantId: 'g1', jti: 'g1.j1', by: 'client:app' } }])
      .when({ kind: 'RevokeAccessToken', jti: 'g1.j1', clientId: 'app', by: 'client:app', now }).then([]);
    // An expired token is inactive already: revoking it records nothing (RFC 7009 section 2.2).
    given(grantDecider, issued).when({ kind: 'RevokeAccessToken', jti: 'g1.j1', clientId: 'app', by: 'client:app', now: at(360) }).then([]);
  });

  it('says, when it revokes a grant, when the last access token issued under it expires', () => {
    const refreshed = grantDecider.decide(refreshWith('g1.r1'), issued.reduce(grantDecider.evolve, grantDecider.initialState));
    // j1 expires at 360 s, j2 (issued by the refresh at 120 s) at 420 s.
    given(grantDecider, [...issued, ...refreshed])
      .when({ kind: 'RevokeRefreshToken', refreshTokenHash: sha256('g1.r2'), clientId: 'app', by: 'client:app' })
      .then([{ type: 'GrantRevoked', data: { ...revokedFor('refresh_token_revoked').data, by: 'client:app', accessTokensExpireBy: at(420).toISOString() } }]);
  });

  it('treats a spent refresh token presented after it would have expired as expired, not stolen', () => {
    // r1 would have expired at 86,400 s: before then its reuse revokes the grant, after then it is only refused.
    given(grantDecider, [...issued, rotated]).when(refreshWith('g1.r1', { now: at(86_399) })).thenRecordsAndRefuses(
      [{ type: 'RefreshTokenReuseDetected', data: { grantId: 'g1', clientId: 'app', tokenHash: sha256('g1.r1') } }, revokedFor('refresh_token_reuse')],
      InvalidGrant,
    );
    given(grantDecider, [...issued, rotated]).when(refreshWith('g1.r1', { now: at(86_400) })).thenRefuses(InvalidGrant);
  });

  it('keeps a grant refreshed for months small: expired access tokens and spent refresh tokens past their expiry are forgotten', () => {
    // Every ten minutes for 30 days, access tokens of five minutes, refresh tokens of a day.
    const refreshes = 30 * 144;
    let state = issued.reduce(grantDecider.evolve, grantDecider.initialState);
    const revokedLater = 'g1.a4000';
    for (let i = 1; i <= refreshes; i++) {
      const command = refreshWith(`g1.r${i}`, {
        now: at(60 + i * 600),
        token: { jti: `g1.a${i}`, kid: 'k1', defaultAudience: 'https://rs', ttlSeconds: 300 },
        refreshToken: { hash: sha256(`g1.r${i + 1}`), ttlSeconds: 86_400 },
      });
      for (const event of grantDecider.decide(command, state)) state = grantDecider.evolve(state, event);
      if (`g1.a${i}` === revokedLater) {
        for (const event of grantDecider.decide({ kind: 'RevokeAccessToken', jti: revokedLater, clientId: 'app', by: 'client:app', now: at(60 + i * 600) }, state)) {
          state = grantDecider.evolve(state, event);
        }
      }
    }
    // Of 4,320 of each: at most twice a day of spent refresh tokens (144), and of live access tokens (1), or 64.
    expect(state.spentRefreshTokenHashes.size).toBeLessThanOrEqual(2 * 144);
    expect(state.accessTokens.size).toBeLessThanOrEqual(64);
    expect(state.revokedAccessTokens.size).toBe(0);
    const now = at(60 + refreshes * 600 + 60);
    /** What the grant does with a refresh token now: the events it records, and whether it refuses. */
    const outcome = (token: string) => {
      try {
        return { refused: false, events: grantDecider.decide(refreshWith(token, { now }), state).map((e) => e.type) };
      } catch (error) {
        const recorded = error instanceof RefusedWithEvents ? error.events.map((e) => e.type) : [];
        return { refused: (error instanceof RefusedWithEvents ? error.refusal : error) instanceof InvalidGrant, events: recorded };
      }
    };
    // The last token works; one spent an hour ago is still theft; one spent two days ago is only expired.
    expect(outcome(`g1.r${refreshes + 1}`)).toEqual({ refused: false, events: ['RefreshTokenRotated', 'RefreshTokenIssued', 'AccessTokenIssued'] });
    expect(outcome(`g1.r${refreshes - 6}`)).toEqual({ refused: true, events: ['RefreshTokenReuseDetected', 'GrantRevoked'] });
    expect(outcome(`g1.r${refreshes - 2 * 144}`)).toEqual({ refused: true, events: [] });
  });

  it('revokes the grant when its current refresh token is revoked', () => {
    given(grantDecider, issued).when({ kind: 'RevokeRefreshToken', refreshTokenHash: sha256('g1.r1'), clientId: 'app', by: 'client:app' })
      .then([{ ...revokedFor('refresh_token_revoked'), data: { ...revokedFor('refresh_token_revoked').data, by: 'client:app' } }]);
    given(grantDecider, issued).when({ kind: 'RevokeRefreshToken', refreshTokenHash: sha256('g1.other'), clientId: 'app', by: 'client:app' }).then([]);
    given(grantDecider, issued).when({ kind: 'RevokeRefreshToken', refreshTokenHash: sha256('g1.r1'), clientId: 'other', by: 'client:other' }).then([]);
  });

  it('lets a user revoke only their own grant', () => {
    given(grantDecider, issued).when({ kind: 'RevokeGrant', reason: 'revoked_by_user', by: 'user:u1', userId: 'u1' })
      .then([{ ...revokedFor('revoked_by_user'), data: { ...revokedFor('revoked_by_user').data, by: 'user:u1' } }]);
    given(grantDecider, issued).when({ kind: 'RevokeGrant', reason: 'revoked_by_user', by: 'user:u2', userId: 'u2' }).thenRefuses(InvalidRequest);
  });

  it('issues an ID token with the access token when the grant has openid, on the code and on refresh, and not once narrowed away', () => {
    const withOpenId = (scopes: string[]) => [
      { ...requested, data: { ...requested.data, scopes, nonce: 'n-1' } },
      { ...authenticated, data: { ...authenticated.data, signInSessionId: sha256('sign-in'), authTime: at(10).toISOString() } },
      { ...consented, data: { ...consented.data, scopes } },
      codeIssued,
    ] as GrantEvent[];
    const idToken = (jti: string, issued: number): GrantEvent => ({
      type: 'IdTokenIssued',
      data: { grantId: 'g1', jti: `${jti}.id`, clientId: 'app', userId: 'u1', kid: 'k1', signInSessionId: sha256('sign-in'), issuedAt: at(issued).toISOString(), expiresAt: at(issued + 300).toISOString() },
    });
    const redemption = grantDecider.decide(redeem({ refreshToken: { hash: sha256('g1.r1'), ttlSeconds: 86_400 } }), withOpenId(['openid', 'profile']).reduce(grantDecider.evolve, grantDecider.initialState));
    expect(redemption.map((e) => e.type)).toEqual(['AuthorizationCodeRedeemed', 'AccessTokenIssued', 'IdTokenIssued', 'RefreshTokenIssued']);
    expect(redemption[2]).toEqual(idToken('j1', 60));
    const afterCode = [...withOpenId(['openid', 'profile']), ...redemption] as GrantEvent[];
    const state = afterCode.reduce(grantDecider.evolve, grantDecider.initialState);
    expect(state.signIn).toEqual({ method: 'password', signInSessionId: sha256('sign-in'), authTime: at(10).toISOString() });
    expect(grantDecider.decide(refreshWith('g1.r1'), state).filter((e) => e.type === 'IdTokenIssued')).toEqual([idToken('g1.j2', 120)]);
    expect(grantDecider.decide(refreshWith('g1.r1', { scopes: ['profile'] }), state).map((e) => e.type)).not.toContain('IdTokenIssued');
    // Without openid, OAuth as before.
    expect(grantDecider.decide(redeem(), withOpenId(['profile']).reduce(grantDecider.evolve, grantDecider.initialState)).map((e) => e.type)).toEqual(['AuthorizationCodeRedeemed', 'AccessTokenIssued']);
  });

  it('issues a client_credentials token on a new grant only', () => {
    const token = { jti: 'g2.j', kid: 'k1', defaultAudience: 'https://rs', ttlSeconds: 300 };
    given(grantDecider, []).when({ kind: 'IssueClientCredentialsToken', grantId: 'g2', clientId: 'machine', scopes: ['items:read'], now: t0, token }).then([
      { type: 'AccessTokenIssued', data: { grantId: 'g2', grantType: 'client_credentials', jti: 'g2.j', kid: 'k1', clientId: 'machine', userId: null, audience: 'https://rs', scopes: ['items:read'], issuedAt: t0.toISOString(), expiresAt: at(300).toISOString() } },
    ]);
    given(grantDecider, [requested]).when({ kind: 'IssueClientCredentialsToken', grantId: 'g1', clientId: 'machine', scopes: [], now: t0, token }).thenRefuses(InvalidRequest);
  });
});
