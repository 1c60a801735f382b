import type { Decider } from './decider.js';
import type { LoginEvent } from './events.js';
import { secondsUntilFewerThan } from './time-window.js';

/**
 * Sign-in attempts for one username, against online guessing (RFC 6819 section
 * 5.1.4.2.3, RFC 9700 section 4.16), without handing anyone a lever to lock the real user
 * out. A lock on the account itself would be one: five wrong passwords every fifteen
 * minutes, from anywhere, would keep its owner out for ever. So, per address before per
 * account:
 *
 * - an address that failed five times for this username within fifteen minutes is
 *   refused for it until the oldest of them is fifteen minutes old (the login guard also
 *   refuses an address that failed twenty times across usernames);
 * - across addresses, a username that failed thirty times within the window (a guess
 *   spread over many addresses) is refused to every address that never signed in to it,
 *   while the addresses its owner signed in from (the last few on record) keep their own
 *   five tries;
 * - only wrong passwords count: an attempt refused while throttled is neither checked
 *   nor recorded, so hammering on extends nothing and writes nothing.
 */
export const ADDRESS_FAILURE_LIMIT_PER_ACCOUNT = 5;
export const ACCOUNT_FAILURE_LIMIT = 30;
export const FAILURE_WINDOW_SECONDS = 15 * 60;
/** Addresses that signed in to the account, remembered to let its owner in past a spread-out attack. */
export const KNOWN_ADDRESSES = 8;

export type LoginAttemptCommand =
  | { kind: 'RecordLoginFailure'; username: string; address: string; now: Date }
  | { kind: 'RecordLoginSuccess'; username: string; address: string; now: Date };

export interface LoginFailure {
  at: string;
  address: string;
}

export interface LoginAttemptState {
  /** Wrong passwords, newest last, at most ACCOUNT_FAILURE_LIMIT of them (a success forgets its address's). */
  failures: LoginFailure[];
  /** Addresses that signed in, newest last, at most KNOWN_ADDRESSES. */
  knownAddresses: string[];
}

/**
 * A username guessed at from many addresses gets a LoginFailed per guess that reaches the
 * password check, so its stream can still grow long: it has snapshots, of a state that
 * is plain JSON already. Bump the version with any change to the state or to evolve
 * (test/unit/snapshot-kinds.test.ts fails until the kind changes with the rule).
 */
export const loginAttemptsDecider: Decider<LoginAttemptCommand, LoginAttemptState, LoginEvent> = {
  initialState: { failures: [], knownAddresses: [] },
  snapshot: { kind: 'login-attempts/3', encode: (state) => state, decode: (data) => data as LoginAttemptState },
  evolve: (state, event) => {
    const { address, at } = event.data;
    if (event.type === 'LoginSucceeded') {
      return {
        failures: state.failures.filter((failure) => failure.address !== address),
        knownAddresses: [...state.knownAddresses.filter((known) => known !== address), address].slice(-KNOWN_ADDRESSES),
      };
    }
    // Refused attempts that earlier releases recorded ('throttled') were no guesses: they count for nothing.
    if (event.data.reason !== 'bad_credentials') return state;
    return { ...state, failures: [...state.failures, { at, address }].slice(-ACCOUNT_FAILURE_LIMIT) };
  },
  decide(command, state) {
    const data = { username: command.username, address: command.address, at: command.now.toISOString() };
    if (command.kind === 'RecordLoginFailure') return [{ type: 'LoginFailed', data: { ...data, reason: 'bad_credentials' } }];
    // A success is news when it clears failures or makes its address known: not at every sign-in.
    const news = state.failures.some((failure) => failure.address === command.address) || !state.knownAddresses.includes(command.address);
    return news ? [{ type: 'LoginSucceeded', data }] : [];
  },
};

/** Seconds until this address may try this account again, or 0. */
export function accountRetryAfter(state: LoginAttemptState, address: string, now: Date): number {
  const fromAddress = secondsUntilFewerThan(state.failures.filter((failure) => failure.address === address), ADDRESS_FAILURE_LIMIT_PER_ACCOUNT, FAILURE_WINDOW_SECONDS, now);
  const spread = state.knownAddresses.includes(address) ? 0 : secondsUntilFewerThan(state.failures, ACCOUNT_FAILURE_LIMIT, FAILURE_WINDOW_SECONDS, now);
  return Math.max(fromAddress, spread);
}
