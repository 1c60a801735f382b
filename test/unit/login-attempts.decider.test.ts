import type { LoginEvent } from '../../src/domain/events.js';
import { accountRetryAfter, loginAttemptsDecider } from '../../src/domain/login-attempts.js';
import { given } from '../support/given-when-then.js';

const t0 = new Date('2026-11-22T10:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const failed = (seconds: number): LoginEvent => ({ type: 'LoginFailed', data: { username: 'bob', address: '127.0.0.1', reason: 'bad_credentials', at: at(seconds).toISOString() } });
const fold = (events: LoginEvent[]) => events.reduce(loginAttemptsDecider.evolve, loginAttemptsDecider.initialState);

describe('login attempts decider', () => {
  it('records every failure', () => {
    given(loginAttemptsDecider, []).when({ kind: 'RecordLoginFailure', username: 'bob', address: '127.0.0.1', reason: 'bad_credentials', now: at(5) }).then([failed(5)]);
  });

  it('records a success only when it closes a run of failures', () => {
    given(loginAttemptsDecider, []).when({ kind: 'RecordLoginSuccess', username: 'bob', address: '127.0.0.1', now: t0 }).then([]);
    given(loginAttemptsDecider, [failed(0)]).when({ kind: 'RecordLoginSuccess', username: 'bob', address: '127.0.0.1', now: at(1) })
      .then([{ type: 'LoginSucceeded', data: { username: 'bob', address: '127.0.0.1', at: at(1).toISOString() } }]);
  });

  it('throttles after five failures within fifteen minutes, until the oldest of them is fifteen minutes old', () => {
    const five = [0, 60, 120, 180, 240].map(failed);
    expect(accountRetryAfter(fold(five.slice(0, 4)), at(250))).toBe(0);
    expect(accountRetryAfter(fold(five), at(250))).toBe(900 - 250);
    expect(accountRetryAfter(fold(five), at(900))).toBe(0);
    // A sixth failure pushes the oldest out: the window now starts at the second one.
    expect(accountRetryAfter(fold([...five, failed(940)]), at(950))).toBe(60 + 900 - 950);
    expect(accountRetryAfter(fold([...five, failed(940)]), at(961))).toBe(0);
  });

  it('records a throttled attempt at most once a minute: the others are refused without a record', () => {
    const throttled = (seconds: number): LoginEvent => ({ type: 'LoginFailed', data: { ...failed(seconds).data, reason: 'throttled' } as LoginEvent['data'] } as LoginEvent);
    const attempt = (seconds: number) => ({ kind: 'RecordLoginFailure' as const, username: 'bob', address: '127.0.0.1', reason: 'throttled' as const, now: at(seconds) });
    const five = [0, 10, 20, 30, 40].map(failed);
    given(loginAttemptsDecider, five).when(attempt(50)).then([throttled(50)]);
    given(loginAttemptsDecider, [...five, throttled(50)]).when(attempt(109)).then([]);
    given(loginAttemptsDecider, [...five, throttled(50)]).when(attempt(110)).then([throttled(110)]);
    // A wrong password is always recorded, throttled or not; and a success starts afresh.
    given(loginAttemptsDecider, [...five, throttled(50)]).when({ ...attempt(60), reason: 'bad_credentials' }).then([failed(60)]);
    const closed: LoginEvent = { type: 'LoginSucceeded', data: { username: 'bob', address: '127.0.0.1', at: at(70).toISOString() } };
    given(loginAttemptsDecider, [...five, throttled(50), closed]).when(attempt(80)).then([throttled(80)]);
    // The recorded ones still keep the account throttled while the attack goes on.
    expect(accountRetryAfter(fold([...five, throttled(50), throttled(110), throttled(170)]), at(200))).toBeGreaterThan(0);
  });

  it('forgets failures once a sign-in succeeds', () => {
    const run = [0, 1, 2, 3].map(failed);
    const closed: LoginEvent = { type: 'LoginSucceeded', data: { username: 'bob', address: '127.0.0.1', at: at(4).toISOString() } };
    expect(accountRetryAfter(fold([...run, closed, failed(5)]), at(6))).toBe(0);
  });
});
