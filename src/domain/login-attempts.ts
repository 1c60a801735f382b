import type { Decider } from '../cqrs/decider.js';
import type { LoginEvent } from './events.js';

/**
 * Sign-in attempts for one username: every failure is recorded, and after too many
 * recent ones the account is throttled (RFC 6819 section 5.1.4.2.3, RFC 9700 section 4.16
 * against online guessing). A success after failures closes the run.
 */
export const ACCOUNT_FAILURE_LIMIT = 5;
export const FAILURE_WINDOW_SECONDS = 15 * 60;
/**
 * A throttled attempt costs the attacker nothing but a request, so recording each one
 * would let anyone grow the event store at line rate, for ever: one a minute per
 * username is recorded (and keeps the account throttled), the rest only refused.
 */
export const THROTTLED_RECORD_INTERVAL_SECONDS = 60;

export type LoginAttemptCommand =
  | { kind: 'RecordLoginFailure'; username: string; address: string; reason: 'bad_credentials' | 'throttled'; now: Date }
  | { kind: 'RecordLoginSuccess'; username: string; address: string; now: Date };

export interface LoginAttemptState {
  /** Times of failures since the last success, newest last, at most the limit's worth. */
  failures: string[];
  /** When the newest throttled attempt was recorded, since the last success. */
  throttledAt: string | null;
}

/**
 * A username guessed at from many addresses gets a LoginFailed per guess that reaches the
 * password check, so its stream can still grow long: it has snapshots, of a state that
 * is plain JSON already. Bump the version with any change to the state or to evolve
 * (test/unit/snapshot-kinds.test.ts fails until the kind changes with the rule).
 */
export const loginAttemptsDecider: Decider<LoginAttemptCommand, LoginAttemptState, LoginEvent> = {
  initialState: { failures: [], throttledAt: null },
  snapshot: { kind: 'login-attempts/2', encode: (state) => state, decode: (data) => data as LoginAttemptState },
  evolve: (state, event) =>
    event.type === 'LoginFailed'
      ? {
          failures: [...state.failures, event.data.at].slice(-ACCOUNT_FAILURE_LIMIT),
          throttledAt: event.data.reason === 'throttled' ? event.data.at : state.throttledAt,
        }
      : { failures: [], throttledAt: null },
  decide(command, state) {
    const at = command.now.toISOString();
    if (command.kind === 'RecordLoginFailure') {
      if (command.reason === 'throttled' && state.throttledAt !== null && command.now.getTime() - Date.parse(state.throttledAt) < THROTTLED_RECORD_INTERVAL_SECONDS * 1000) return [];
      return [{ type: 'LoginFailed', data: { username: command.username, address: command.address, reason: command.reason, at } }];
    }
    return state.failures.length > 0 ? [{ type: 'LoginSucceeded', data: { username: command.username, address: command.address, at } }] : [];
  },
};

/** Seconds until this account may try again, or 0. */
export function accountRetryAfter(state: LoginAttemptState, now: Date): number {
  if (state.failures.length < ACCOUNT_FAILURE_LIMIT) return 0;
  const oldest = Date.parse(state.failures[state.failures.length - ACCOUNT_FAILURE_LIMIT]);
  return Math.max(0, Math.ceil((oldest + FAILURE_WINDOW_SECONDS * 1000 - now.getTime()) / 1000));
}
