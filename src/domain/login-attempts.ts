import type { Decider } from '../cqrs/decider.js';
import type { LoginEvent } from './events.js';

/**
 * Sign-in attempts for one username: every failure is recorded, and after too many
 * recent ones the account is throttled (RFC 6819 section 5.1.4.2.3, RFC 9700 section 4.16
 * against online guessing). A success after failures closes the run.
 */
export const ACCOUNT_FAILURE_LIMIT = 5;
export const FAILURE_WINDOW_SECONDS = 15 * 60;

export type LoginAttemptCommand =
  | { kind: 'RecordLoginFailure'; username: string; address: string; reason: 'bad_credentials' | 'throttled'; now: Date }
  | { kind: 'RecordLoginSuccess'; username: string; address: string; now: Date };

export interface LoginAttemptState {
  /** Times of failures since the last success, newest last, at most the limit's worth. */
  failures: string[];
}

/**
 * A username under attack gets one LoginFailed per guess, throttled guesses included, so
 * its stream can grow by millions; its state is plain JSON already. Bump the version with
 * any change to the state or to evolve.
 */
export const loginAttemptsDecider: Decider<LoginAttemptCommand, LoginAttemptState, LoginEvent> = {
  initialState: { failures: [] },
  snapshot: { kind: 'login-attempts/1', encode: (state) => state, decode: (data) => data as LoginAttemptState },
  evolve: (state, event) =>
    event.type === 'LoginFailed'
      ? { failures: [...state.failures, event.data.at].slice(-ACCOUNT_FAILURE_LIMIT) }
      : { failures: [] },
  decide(command, state) {
    const at = command.now.toISOString();
    if (command.kind === 'RecordLoginFailure') {
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
