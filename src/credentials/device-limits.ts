import { TooManyRequests } from '../domain/oauth-errors.js';
import type { AddressFailures } from './address-failures.js';

/** Wrong user codes an address may enter within the window before it is refused. */
export const USER_CODE_FAILURE_LIMIT = 10;
/** The window they are counted in: the sign-in throttle's fifteen minutes. */
export const USER_CODE_FAILURE_WINDOW_SECONDS = 15 * 60;
/** Device authorization requests an address may make within the window. */
export const DEVICE_REQUEST_LIMIT = 30;
export const DEVICE_REQUEST_WINDOW_SECONDS = 10 * 60;

/** Too many wrong user codes from this address lately: the verification page answers 429. */
export class UserCodeGuessesThrottled extends Error {
  override readonly name = 'UserCodeGuessesThrottled';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many wrong codes; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`);
  }
}

/**
 * RFC 8628 section 5.1: a user code has 34.5 bits, so the verification page must not take
 * guesses at line rate. Ten wrong codes within fifteen minutes from one address, and that
 * address is refused until the oldest of them is fifteen minutes old: some 1,000 guesses a
 * day, against 2.5 * 10^10 codes of which a handful are live for ten minutes each. Counted
 * in the sign-in throttle's file, in a table of its own, so every instance on the data
 * directory counts the same and a wrong code costs no sign-in attempt. A refused guess is
 * neither checked nor counted (hammering extends nothing). No event: a wrong code touches
 * no stream, and the store is no place for what anyone can send at line rate.
 */
export class UserCodeGuesses {
  constructor(private readonly failures: AddressFailures) {}

  /** Refuses (UserCodeGuessesThrottled) an address at the limit. */
  async check(address: string, now: Date): Promise<void> {
    const wait = await this.failures.retryAfter(address, USER_CODE_FAILURE_LIMIT, now.getTime());
    if (wait > 0) throw new UserCodeGuessesThrottled(wait);
  }

  async recordFailure(address: string, now: Date): Promise<void> {
    await this.failures.record(address, now.getTime());
  }

}

/**
 * Unlike /authorize's request, a device's is recorded when made (its polls may reach any
 * instance), and a public device client's id is no secret: so each address may make thirty
 * within ten minutes, which bounds how fast anyone can make the record grow this way and is
 * far above what the devices behind one address start (each asks once per sign-in).
 */
export class DeviceRequests {
  constructor(private readonly requests: AddressFailures) {}

  /** Counts the request, or refuses it (TooManyRequests) for an address at the limit, uncounted. */
  async admit(address: string, now: Date): Promise<void> {
    const wait = await this.requests.retryAfter(address, DEVICE_REQUEST_LIMIT, now.getTime());
    if (wait > 0) throw new TooManyRequests('device authorization requests', wait);
    await this.requests.record(address, now.getTime());
  }

}
