import { sha256 } from '../../src/domain/crypto.js';
import type { GrantEvent } from '../../src/domain/events.js';
import { RefusedWithEvents } from '../../src/domain/decider.js';
import { grantDecider, type GrantCommand } from '../../src/domain/grant.js';
import { InvalidGrant } from '../../src/domain/oauth-errors.js';

/** FAPI 2.0 Security Profile 5.3.2.1: a lost refresh answer may be asked for again, once, briefly, with the same key. */
const t0 = new Date('2026-11-22T10:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const jkt = 'k'.repeat(43);
const history: GrantEvent[] = [
  { type: 'AuthorizationRequested', data: { grantId: 'g1', clientId: 'bank', redirectUri: 'https://bank.example/cb', redirectUriSent: true, scopes: ['accounts'], state: null, codeChallenge: 'c'.repeat(43), codeChallengeMethod: 'S256', browserSessionHash: sha256('b'), expiresAt: at(600).toISOString() } },
  { type: 'UserAuthenticated', data: { grantId: 'g1', userId: 'u1', username: 'alice', method: 'password' } },
  { type: 'ConsentGranted', data: { grantId: 'g1', userId: 'u1', clientId: 'bank', scopes: ['accounts'] } },
  { type: 'AuthorizationCodeIssued', data: { grantId: 'g1', codeHash: sha256('code'), expiresAt: at(60).toISOString(), userId: 'u1' } },
  { type: 'AuthorizationCodeRedeemed', data: { grantId: 'g1', clientId: 'bank' } },
  { type: 'RefreshTokenIssued', data: { grantId: 'g1', tokenHash: sha256('r1'), expiresAt: at(86_400).toISOString(), userId: 'u1' } },
];

const refresh = (presented: string, successor: string, overrides: Partial<Extract<GrantCommand, { kind: 'RefreshAccessToken' }>> = {}): Extract<GrantCommand, { kind: 'RefreshAccessToken' }> => ({
  kind: 'RefreshAccessToken', refreshTokenHash: sha256(presented), clientId: 'bank', scopes: undefined, now: at(100), retryWindowSeconds: 30,
  token: { jti: `g1.${Math.random()}`, kid: 'k1', defaultAudience: 'https://rs', ttlSeconds: 300, jkt }, refreshToken: { hash: sha256(successor), ttlSeconds: 86_400 }, idToken: { ttlSeconds: 300, kid: 'k1' },
  ...overrides,
});

const fold = (events: GrantEvent[]) => events.reduce(grantDecider.evolve, grantDecider.initialState);
const rotated = () => {
  const events = grantDecider.decide(refresh('r1', 'r2'), fold(history));
  return [...history, ...events];
};
const refusalOf = (command: GrantCommand, events: GrantEvent[]) => {
  try {
    grantDecider.decide(command, fold(events));
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('a FAPI 2.0 client\'s refresh retry', () => {
  it('the rotation records how long, and with which key, the spent token may be retried', () => {
    expect(rotated().find((e) => e.type === 'RefreshTokenRotated')!.data).toEqual({ grantId: 'g1', previousTokenHash: sha256('r1'), retry: { until: at(130).toISOString(), jkt } });
  });

  it('given a rotation, the spent token once more within the window and with the same key gets the same successor and a new access token', () => {
    const events = grantDecider.decide(refresh('r1', 'r2', { now: at(110) }), fold(rotated()));
    expect(events.map((e) => e.type)).toEqual(['RefreshTokenRetried', 'AccessTokenIssued']);
  });

  it('is reuse (the grant revoked) a second time, after the window, with another key, once the successor was used, or for another client', () => {
    const once = [...rotated(), ...grantDecider.decide(refresh('r1', 'r2', { now: at(110) }), fold(rotated()))];
    const successorUsed = [...rotated(), ...grantDecider.decide(refresh('r2', 'r3', { now: at(105) }), fold(rotated()))];
    const cases: Array<[string, GrantCommand, GrantEvent[]]> = [
      ['a second retry', refresh('r1', 'r2', { now: at(115) }), once],
      ['after the window', refresh('r1', 'r2', { now: at(131) }), rotated()],
      ['another key', refresh('r1', 'r2', { token: { jti: 'g1.x', kid: 'k1', defaultAudience: 'https://rs', ttlSeconds: 300, jkt: 'o'.repeat(43) } }), rotated()],
      ['no key', refresh('r1', 'r2', { token: { jti: 'g1.x', kid: 'k1', defaultAudience: 'https://rs', ttlSeconds: 300 } }), rotated()],
      ['the successor used', refresh('r1', 'r2', { now: at(110) }), successorUsed],
      ['a client that may not retry', refresh('r1', 'r2', { retryWindowSeconds: undefined }), rotated()],
    ];
    for (const [what, command, events] of cases) {
      const refusal = refusalOf(command, events);
      expect([what, refusal instanceof RefusedWithEvents]).toEqual([what, true]);
      expect((refusal as RefusedWithEvents).events.map((e) => e.type)).toEqual(['RefreshTokenReuseDetected', 'GrantRevoked']);
      expect((refusal as RefusedWithEvents).refusal).toBeInstanceOf(InvalidGrant);
    }
  });
});
