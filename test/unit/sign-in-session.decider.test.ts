import type { SignInSessionEndReason, SignInSessionEvent } from '../../src/domain/events.js';
import { InvalidRequest } from '../../src/domain/oauth-errors.js';
import { sessionMayStandIn, signInRequirements } from '../../src/domain/prompt.js';
import { signedInUser, signInSessionDecider } from '../../src/domain/sign-in-session.js';
import { given } from '../support/given-when-then.js';

const t0 = new Date('2026-11-22T10:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const started: SignInSessionEvent = {
  type: 'SignInSessionStarted',
  data: { userId: 'u1', username: 'alice', grantId: 'g1', authTime: t0.toISOString(), expiresAt: at(3600).toISOString() },
};
const ended = (reason: SignInSessionEndReason): SignInSessionEvent => ({ type: 'SignInSessionEnded', data: { userId: 'u1', reason } });
const fold = (events: SignInSessionEvent[]) => events.reduce(signInSessionDecider.evolve, signInSessionDecider.initialState);

describe('sign-in session decider', () => {
  it('starts a session that records when the password was given and when the session expires', () => {
    given(signInSessionDecider, [])
      .when({ kind: 'StartSignInSession', userId: 'u1', username: 'alice', grantId: 'g1', now: t0, ttlSeconds: 3600 })
      .then([started]);
  });

  it('never starts a session twice on one stream', () => {
    given(signInSessionDecider, [started])
      .when({ kind: 'StartSignInSession', userId: 'u2', username: 'bob', grantId: null, now: at(5), ttlSeconds: 3600 })
      .thenRefuses(InvalidRequest, /already exists/);
  });

  it('ends an active session once; ending it again, or a session never started, records nothing', () => {
    given(signInSessionDecider, [started]).when({ kind: 'EndSignInSession', reason: 'signed_out' }).then([ended('signed_out')]);
    given(signInSessionDecider, [started, ended('replaced')]).when({ kind: 'EndSignInSession', reason: 'signed_out' }).then([]);
    given(signInSessionDecider, []).when({ kind: 'EndSignInSession', reason: 'signed_out' }).then([]);
  });

  it('is ended from another browser or by an administrator only in the name of its own user', () => {
    given(signInSessionDecider, [started]).when({ kind: 'EndSignInSession', reason: 'signed_out_elsewhere', byUserId: 'u1' }).then([ended('signed_out_elsewhere')]);
    given(signInSessionDecider, [started]).when({ kind: 'EndSignInSession', reason: 'user_disabled', byUserId: 'u1' }).then([ended('user_disabled')]);
    given(signInSessionDecider, [started, ended('signed_out')]).when({ kind: 'EndSignInSession', reason: 'signed_out_elsewhere', byUserId: 'u1' }).then([]);
    // Someone else's session, and one that never was, get the same refusal.
    given(signInSessionDecider, [started]).when({ kind: 'EndSignInSession', reason: 'signed_out_elsewhere', byUserId: 'u2' }).thenRefuses(InvalidRequest, /no such sign-in session/);
    given(signInSessionDecider, []).when({ kind: 'EndSignInSession', reason: 'signed_out_elsewhere', byUserId: 'u1' }).thenRefuses(InvalidRequest, /no such sign-in session/);
  });

  it('signs the user in until it expires or ends, and no longer than max_age after the password', () => {
    const user = { userId: 'u1', username: 'alice', authTime: t0.toISOString() };
    expect(signedInUser(fold([started]), at(3599))).toEqual(user);
    expect(signedInUser(fold([started]), at(3600))).toBeUndefined();
    expect(signedInUser(fold([started, ended('signed_out')]), at(10))).toBeUndefined();
    expect(signedInUser(fold([]), at(10))).toBeUndefined();
    expect(signedInUser(fold([started]), at(300), 300)).toEqual(user);
    expect(signedInUser(fold([started]), at(301), 300)).toBeUndefined();
    expect(signedInUser(fold([started]), at(1), 0)).toBeUndefined();
  });
});

describe('prompt and max_age', () => {
  it('lets the session stand in for the password unless the client asks for a fresh sign-in', () => {
    expect(sessionMayStandIn(signInRequirements(undefined, undefined))).toBe(true);
    expect(sessionMayStandIn(signInRequirements('consent', undefined))).toBe(true);
    expect(sessionMayStandIn(signInRequirements('login consent', undefined))).toBe(false);
    expect(sessionMayStandIn(signInRequirements('select_account', undefined))).toBe(false);
    expect(signInRequirements(undefined, '0').maxAgeSeconds).toBe(0);
    expect(signInRequirements(undefined, '3600').maxAgeSeconds).toBe(3600);
  });

  it('refuses what it cannot honour, with invalid_request', () => {
    for (const [prompt, maxAge] of [['create', undefined], ['none login', undefined], [undefined, '-1'], [undefined, '1.5'], [undefined, 'soon'], [undefined, '']]) {
      expect(() => signInRequirements(prompt, maxAge)).toThrow(InvalidRequest);
    }
  });
});
