import { sha256 } from '../../src/domain/crypto.js';
import type { GrantEvent, LoginEvent } from '../../src/domain/events.js';
import { grantDecider, type GrantState } from '../../src/domain/grant.js';
import { loginAttemptsDecider } from '../../src/domain/login-attempts.js';
import { canonicalJson } from '../../src/event-store/tamper-evidence.js';

/**
 * Snapshots of another kind are ignored, so a snapshot taken under an old rule is never
 * read as if the new rule had folded it: that holds only if the kind changes with the
 * rule. These digests pin what each decider folds a fixed history into. A change to a
 * state or to an evolve that changes a digest must bump the decider's snapshot kind, then
 * the kind and the digest here: the test fails until both are done.
 */
const digest = (value: unknown) => sha256(canonicalJson(value));
const t0 = Date.parse('2026-11-22T10:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();

describe('snapshot kinds follow the rules they fold', () => {
  it('grant', () => {
    const history: GrantEvent[] = [
      { type: 'AuthorizationRequested', data: { grantId: 'g1', clientId: 'app', redirectUri: 'https://app.example/cb', redirectUriSent: true, scopes: ['profile'], state: 's', codeChallenge: sha256('v'), codeChallengeMethod: 'S256', browserSessionHash: sha256('b'), expiresAt: at(600) } },
      { type: 'UserAuthenticated', data: { grantId: 'g1', userId: 'u1', username: 'alice', method: 'password' } },
      { type: 'ConsentGranted', data: { grantId: 'g1', userId: 'u1', clientId: 'app', scopes: ['profile'] } },
      { type: 'AuthorizationCodeIssued', data: { grantId: 'g1', codeHash: sha256('g1.code'), expiresAt: at(60) } },
      { type: 'AuthorizationCodeRedeemed', data: { grantId: 'g1', clientId: 'app' } },
      { type: 'RefreshTokenIssued', data: { grantId: 'g1', tokenHash: sha256('g1.r0'), expiresAt: at(3600) } },
    ];
    // Seventy refreshes ten minutes apart, with hour-long refresh tokens: the sifting runs.
    for (let i = 0; i < 70; i++) {
      const now = 60 + i * 600;
      history.push(
        { type: 'RefreshTokenRotated', data: { grantId: 'g1', previousTokenHash: sha256(`g1.r${i}`) } },
        { type: 'RefreshTokenIssued', data: { grantId: 'g1', tokenHash: sha256(`g1.r${i + 1}`), expiresAt: at(now + 3600) } },
        { type: 'AccessTokenIssued', data: { grantId: 'g1', grantType: 'refresh_token', jti: `g1.a${i}`, kid: 'k1', clientId: 'app', userId: 'u1', audience: 'https://rs', scopes: ['profile'], issuedAt: at(now), expiresAt: at(now + 300) } },
      );
    }
    history.push({ type: 'TokenRevoked', data: { grantId: 'g1', jti: 'g1.a69', by: 'client:app' } });
    const state: GrantState = history.reduce(grantDecider.evolve, grantDecider.initialState);
    expect([grantDecider.snapshot!.kind, digest(grantDecider.snapshot!.encode(state))]).toEqual(['grant/5', '1XIOsLLGocQ8jD0Vo2Wz_wt6zj87EAyhvKEywfquUCo']);
  });

  it('login attempts', () => {
    const failed = (seconds: number, reason: 'bad_credentials' | 'throttled'): LoginEvent => ({
      type: 'LoginFailed',
      data: { username: 'bob', address: '192.0.2.1', reason, at: at(seconds) },
    });
    const history: LoginEvent[] = [
      failed(0, 'bad_credentials'),
      { type: 'LoginSucceeded', data: { username: 'bob', address: '192.0.2.1', at: at(5) } },
      ...[10, 20, 30, 40, 50].map((s) => failed(s, 'bad_credentials')),
      failed(60, 'throttled'),
      { type: 'LoginFailed', data: { username: 'bob', address: '198.51.100.7', reason: 'bad_credentials', at: at(70) } },
      { type: 'LoginSucceeded', data: { username: 'bob', address: '198.51.100.7', at: at(80) } },
    ];
    const state = history.reduce(loginAttemptsDecider.evolve, loginAttemptsDecider.initialState);
    expect([loginAttemptsDecider.snapshot!.kind, digest(loginAttemptsDecider.snapshot!.encode(state))]).toEqual(['login-attempts/3', 'Utol7YHRoUKdloh5w0l6EWsuCfxTMbZUV3OfN0tgEc0']);
  });
});
