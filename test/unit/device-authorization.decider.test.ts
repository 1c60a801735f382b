import { sha256 } from '../../src/domain/crypto.js';
import type { GrantEvent } from '../../src/domain/events.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../src/domain/events/event-schema.js';
import { grantDecider, type GrantCommand } from '../../src/domain/grant.js';
import { AuthorizationPending, DeviceAccessDenied, ExpiredToken, InvalidGrant, InvalidRequest, InvalidTarget, SlowDown } from '../../src/domain/oauth-errors.js';
import { given } from '../support/given-when-then.js';

const t0 = new Date('2026-11-22T10:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const deviceCode = 'g1.device-code';
const userCodeHash = sha256('keyed hash of BCDF-GHJK');
const signedIn = { userId: 'u1', username: 'alice', method: 'session' as const, signInSessionId: sha256('cookie'), authTime: at(-60).toISOString() };

const requested: GrantEvent = {
  type: 'DeviceAuthorizationRequested',
  data: { grantId: 'g1', clientId: 'tv', scopes: ['openid', 'profile'], deviceCodeHash: sha256(deviceCode), userCodeHash, expiresAt: at(600).toISOString(), interval: 5 },
};
const authenticated: GrantEvent = { type: 'UserAuthenticated', data: { grantId: 'g1', userId: 'u1', username: 'alice', method: 'session', signInSessionId: sha256('cookie'), authTime: at(-60).toISOString() } };
const consented: GrantEvent = { type: 'ConsentGranted', data: { grantId: 'g1', userId: 'u1', clientId: 'tv', scopes: ['openid', 'profile'] } };
const approved: GrantEvent = { type: 'DeviceCodeApproved', data: { grantId: 'g1', userId: 'u1', expiresAt: at(600).toISOString() } };
const denied: GrantEvent = { type: 'ConsentDenied', data: { grantId: 'g1', userId: 'u1', clientId: 'tv' } };
const redeemed: GrantEvent = { type: 'DeviceCodeRedeemed', data: { grantId: 'g1', clientId: 'tv' } };

const request: GrantCommand = {
  kind: 'RequestDeviceAuthorization', grantId: 'g1', clientId: 'tv', scopes: ['openid', 'profile'], deviceCodeHash: sha256(deviceCode), userCodeHash,
  now: at(0), ttlSeconds: 600, intervalSeconds: 5,
};
const approve = (overrides: Partial<Extract<GrantCommand, { kind: 'ApproveDeviceAuthorization' }>> = {}): GrantCommand => ({ kind: 'ApproveDeviceAuthorization', userCodeHash, signedIn, now: at(60), ...overrides });
const deny: GrantCommand = { kind: 'DenyDeviceAuthorization', userCodeHash, signedIn, now: at(60) };
const poll = (overrides: Partial<Extract<GrantCommand, { kind: 'RedeemDeviceCode' }>> = {}): GrantCommand => ({
  kind: 'RedeemDeviceCode', deviceCodeHash: sha256(deviceCode), clientId: 'tv', now: at(120),
  token: { jti: 'g1.a1', kid: 'k1', defaultAudience: 'https://rs', ttlSeconds: 300 }, idToken: { ttlSeconds: 300, kid: 'k2' }, ...overrides,
});

describe('device authorization grant decider (RFC 8628)', () => {
  describe('the device request', () => {
    it('records the request with both codes as hashes, its expiry and its interval', () => {
      given(grantDecider, []).when(request).then([requested]);
    });
    it('refuses a grant id already taken (the user code is in use): the handler draws another', () => {
      given(grantDecider, [requested]).when(request).thenRefuses(InvalidRequest);
    });
  });

  describe('the user on the verification page', () => {
    it('approving records who signed in, the consent, and the device code approved until it expires', () => {
      given(grantDecider, [requested]).when(approve()).then([authenticated, consented, approved]);
    });
    it('denying records who signed in and the denial', () => {
      given(grantDecider, [requested]).when(deny).then([authenticated, denied]);
    });
    it('one answer for a wrong user code, an expired one, and one already decided', () => {
      given(grantDecider, [requested]).when(approve({ userCodeHash: sha256('another') })).thenRefuses(InvalidRequest, /not valid, or has expired/);
      given(grantDecider, [requested]).when(approve({ now: at(600) })).thenRefuses(InvalidRequest, /not valid, or has expired/);
      given(grantDecider, [requested, authenticated, consented, approved]).when(approve()).thenRefuses(InvalidRequest, /not valid, or has expired/);
      given(grantDecider, [requested, authenticated, denied]).when(deny).thenRefuses(InvalidRequest, /not valid, or has expired/);
      given(grantDecider, []).when(deny).thenRefuses(InvalidRequest, /not valid, or has expired/);
    });
  });

  describe('the device polling the token endpoint', () => {
    it('before the user decides: authorization_pending, with the interval', () => {
      given(grantDecider, [requested]).when(poll()).thenRefuses(AuthorizationPending);
      expect(() => grantDecider.decide(poll(), grantDecider.evolve(grantDecider.initialState, requested))).toThrow(expect.objectContaining({ intervalSeconds: 5 }));
    });
    it('back before the interval passed: slow_down, and the interval five seconds longer', () => {
      const tooSoon = poll({ lastPoll: { at: at(117), intervalSeconds: 5 } });
      given(grantDecider, [requested]).when(tooSoon).thenRefuses(SlowDown);
      expect(() => grantDecider.decide(tooSoon, grantDecider.evolve(grantDecider.initialState, requested))).toThrow(expect.objectContaining({ intervalSeconds: 10 }));
    });
    it('a longer interval after slow_down holds for the next polls', () => {
      given(grantDecider, [requested]).when(poll({ lastPoll: { at: at(112), intervalSeconds: 10 } })).thenRefuses(SlowDown);
      given(grantDecider, [requested]).when(poll({ lastPoll: { at: at(110), intervalSeconds: 10 } })).thenRefuses(AuthorizationPending);
    });
    it('after a denial: access_denied', () => {
      given(grantDecider, [requested, authenticated, denied]).when(poll()).thenRefuses(DeviceAccessDenied);
    });
    it('after the device code expired, decided or not: expired_token', () => {
      given(grantDecider, [requested]).when(poll({ now: at(600) })).thenRefuses(ExpiredToken);
      given(grantDecider, [requested, authenticated, consented, approved]).when(poll({ now: at(601) })).thenRefuses(ExpiredToken);
    });
    it('after approval: the tokens the code grant gives, ID token with openid, refresh token if the client may refresh', () => {
      const refreshToken = { hash: sha256('g1.refresh'), ttlSeconds: 3600 };
      given(grantDecider, [requested, authenticated, consented, approved])
        .when(poll({ refreshToken }))
        .then([
          redeemed,
          {
            type: 'AccessTokenIssued',
            data: { grantId: 'g1', grantType: DEVICE_CODE_GRANT_TYPE, jti: 'g1.a1', kid: 'k1', clientId: 'tv', userId: 'u1', audience: 'https://rs', scopes: ['openid', 'profile'], issuedAt: at(120).toISOString(), expiresAt: at(420).toISOString() },
          },
          {
            type: 'IdTokenIssued',
            data: { grantId: 'g1', jti: 'g1.a1.id', clientId: 'tv', userId: 'u1', kid: 'k2', signInSessionId: sha256('cookie'), issuedAt: at(120).toISOString(), expiresAt: at(420).toISOString() },
          },
          { type: 'RefreshTokenIssued', data: { grantId: 'g1', tokenHash: sha256('g1.refresh'), expiresAt: at(3720).toISOString(), userId: 'u1' } },
        ]);
    });
    it('a device code is redeemed once', () => {
      given(grantDecider, [requested, authenticated, consented, approved, redeemed]).when(poll()).thenRefuses(InvalidGrant);
    });
    it('refuses another device code, another client, or a revoked grant with invalid_grant', () => {
      const history = [requested, authenticated, consented, approved];
      given(grantDecider, history).when(poll({ deviceCodeHash: sha256('g1.other') })).thenRefuses(InvalidGrant);
      given(grantDecider, history).when(poll({ clientId: 'other' })).thenRefuses(InvalidGrant);
      given(grantDecider, [...history, { type: 'GrantRevoked', data: { grantId: 'g1', reason: 'revoked_by_user', by: 'user:u1', clientId: 'tv', userId: 'u1' } }]).when(poll()).thenRefuses(InvalidGrant);
      given(grantDecider, []).when(poll()).thenRefuses(InvalidGrant);
    });
    it('an authorization code grant is no device code grant', () => {
      const codeGrant: GrantEvent = {
        type: 'AuthorizationRequested',
        data: { grantId: 'g1', clientId: 'tv', redirectUri: 'https://tv.example/cb', redirectUriSent: true, scopes: ['profile'], state: null, codeChallenge: sha256('v'), codeChallengeMethod: 'S256', browserSessionHash: sha256('b'), expiresAt: at(600).toISOString() },
      };
      given(grantDecider, [codeGrant]).when(poll()).thenRefuses(InvalidGrant);
      given(grantDecider, [codeGrant]).when(approve()).thenRefuses(InvalidRequest);
    });
  });
});

describe('device grants and resource indicators (RFC 8707)', () => {
  const withResources: GrantEvent = { ...requested, data: { ...requested.data, resources: ['https://a.example', 'https://b.example'] } } as GrantEvent;
  const consentedAt: GrantEvent = { ...consented, data: { ...consented.data, resources: ['https://a.example', 'https://b.example'] } } as GrantEvent;
  it('the consent holds the resources the device asked for', () => {
    expect(grantDecider.decide(approve(), [withResources].reduce(grantDecider.evolve, grantDecider.initialState))[1]).toEqual(consentedAt);
  });
  it('a token is for them, or for some of them, never for another', () => {
    const state = [withResources, authenticated, consentedAt, approved].reduce(grantDecider.evolve, grantDecider.initialState);
    const audienceOf = (events: GrantEvent[]) => (events.find((e) => e.type === 'AccessTokenIssued')!.data as { audience: unknown }).audience;
    expect(audienceOf(grantDecider.decide(poll(), state))).toEqual(['https://a.example', 'https://b.example']);
    expect(audienceOf(grantDecider.decide(poll({ resources: ['https://b.example'] }), state))).toBe('https://b.example');
    given(grantDecider, [withResources, authenticated, consentedAt, approved]).when(poll({ resources: ['https://c.example'] })).thenRefuses(InvalidTarget);
  });
});
