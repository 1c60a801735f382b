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

  it('forgets failures once a sign-in succeeds', () => {
    const run = [0, 1, 2, 3].map(failed);
    const closed: LoginEvent = { type: 'LoginSucceeded', data: { username: 'bob', address: '127.0.0.1', at: at(4).toISOString() } };
    expect(accountRetryAfter(fold([...run, closed, failed(5)]), at(6))).toBe(0);
  });
});
