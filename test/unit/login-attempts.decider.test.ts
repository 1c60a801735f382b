import type { LoginEvent } from '../../src/domain/events.js';
import { accountRetryAfter, loginAttemptsDecider } from '../../src/domain/login-attempts.js';
import { given } from '../support/given-when-then.js';

const t0 = new Date('2026-11-22T10:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const attacker = '203.0.113.66';
const owner = '198.51.100.7';
const failed = (seconds: number, address = attacker): LoginEvent => ({ type: 'LoginFailed', data: { username: 'bob', address, reason: 'bad_credentials', at: at(seconds).toISOString() } });
const succeeded = (seconds: number, address = owner): LoginEvent => ({ type: 'LoginSucceeded', data: { username: 'bob', address, at: at(seconds).toISOString() } });
const fold = (events: LoginEvent[]) => events.reduce(loginAttemptsDecider.evolve, loginAttemptsDecider.initialState);
const failure = (seconds: number, address = attacker) => ({ kind: 'RecordLoginFailure' as const, username: 'bob', address, now: at(seconds) });
const success = (seconds: number, address = owner) => ({ kind: 'RecordLoginSuccess' as const, username: 'bob', address, now: at(seconds) });

describe('login attempts decider', () => {
  it('records every wrong password', () => {
    given(loginAttemptsDecider, []).when(failure(5)).then([failed(5)]);
  });

  it('records a success when it clears failures or comes from an address new to the account, not at every sign-in', () => {
    given(loginAttemptsDecider, []).when(success(0)).then([succeeded(0)]);
    given(loginAttemptsDecider, [succeeded(0)]).when(success(10)).then([]);
    given(loginAttemptsDecider, [succeeded(0), failed(5, owner)]).when(success(10)).then([succeeded(10)]);
    given(loginAttemptsDecider, [succeeded(0)]).when(success(10, '192.0.2.9')).then([succeeded(10, '192.0.2.9')]);
  });

  it('refuses an address after five failures within fifteen minutes, until the oldest of them is fifteen minutes old', () => {
    const five = [0, 60, 120, 180, 240].map((s) => failed(s));
    expect(accountRetryAfter(fold(five.slice(0, 4)), attacker, at(250))).toBe(0);
    expect(accountRetryAfter(fold(five), attacker, at(250))).toBe(900 - 250);
    expect(accountRetryAfter(fold(five), attacker, at(900))).toBe(0);
    // A sixth failure pushes the oldest out: the window now starts at the second one.
    expect(accountRetryAfter(fold([...five, failed(940)]), attacker, at(950))).toBe(60 + 900 - 950);
  });

  it('gives nobody a lever on the owner: one address guessing for ever never refuses the owner', () => {
    // Five guesses each time the window lets it, for an hour.
    const forever = [0, 901, 1802, 2703, 3604].flatMap((start) => [0, 1, 2, 3, 4].map((s) => failed(start + s)));
    expect(accountRetryAfter(fold(forever), attacker, at(3609))).toBeGreaterThan(0);
    expect(accountRetryAfter(fold(forever), owner, at(3609))).toBe(0);
    expect(accountRetryAfter(fold(forever), '192.0.2.200', at(3609))).toBe(0);
  });

  it('refuses addresses never seen signing in once thirty failures from many addresses fall within the window; known ones keep their own tries', () => {
    const spread = Array.from({ length: 30 }, (_, i) => failed(i, `203.0.113.${i}`));
    expect(accountRetryAfter(fold(spread.slice(0, 29)), '192.0.2.200', at(40))).toBe(0);
    expect(accountRetryAfter(fold(spread), '192.0.2.200', at(40))).toBe(900 - 40);
    expect(accountRetryAfter(fold([succeeded(-100), ...spread]), owner, at(40))).toBe(0);
    expect(accountRetryAfter(fold(spread), '192.0.2.200', at(900))).toBe(0);
  });

  it('counts the throttled attempts earlier releases recorded as nothing', () => {
    const throttled = (seconds: number): LoginEvent => ({ type: 'LoginFailed', data: { ...failed(seconds).data, reason: 'throttled' } as LoginEvent['data'] } as LoginEvent);
    const five = [0, 10, 20, 30, 40].map((s) => failed(s));
    // The reported lock: five failures, then one "throttled" record every couple of minutes past the window.
    const kept = [...five, ...[120, 240, 360, 480, 600, 720, 840, 960, 1080].map(throttled)];
    expect(accountRetryAfter(fold(kept), attacker, at(1090))).toBe(0);
  });

  it('forgets an address\'s failures once a sign-in from it succeeds', () => {
    const run = [0, 1, 2, 3, 4].map((s) => failed(s, owner));
    expect(accountRetryAfter(fold(run), owner, at(6))).toBeGreaterThan(0);
    expect(accountRetryAfter(fold([...run.slice(0, 4), succeeded(4), failed(5, owner)]), owner, at(6))).toBe(0);
  });
});
