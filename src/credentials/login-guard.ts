import type { FoldedStreams } from '../cqrs/folded-streams.js';
import type { UserDocument } from '../read-model/documents.js';
import type { ReadModel } from '../read-model/read-model.js';
import type { CommandContext } from '../cqrs/command-context.js';
import { decideAndAppend } from '../cqrs/decide-and-append.js';
import { sha256 } from '../domain/crypto.js';
import { streams } from '../domain/events.js';
import { accountRetryAfter, loginAttemptsDecider, type LoginAttemptCommand } from '../domain/login-attempts.js';
import type { AddressFailures } from './address-failures.js';
import type { SecretStore } from './secret-store.js';
import { checkUserPassword } from './user-login.js';

/** The username or the password is wrong; which one, nobody is told. */
export class LoginFailed extends Error {
  override readonly name = 'LoginFailed';
}

/** Too many recent failures for this account or from this address. */
export class LoginThrottled extends Error {
  override readonly name = 'LoginThrottled';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed sign-in attempts; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`);
  }
}

export const ADDRESS_FAILURE_LIMIT = 20;

/**
 * Every password check goes through here: it refuses throttled addresses (per account,
 * and across accounts), records each failure as a LoginFailed event on the username's login stream (the
 * username is hashed into the stream name, so any input makes a valid name), and counts
 * failures per address where every instance sees them.
 */
export class LoginGuard {
  constructor(
    private readonly ports: { streams: FoldedStreams; readModel: ReadModel; secrets: SecretStore },
    private readonly addressFailures: AddressFailures,
  ) {}

  async signIn(username: string, password: string, address: string, context: CommandContext): Promise<UserDocument> {
    const now = context.now;
    const name = username.slice(0, 128);
    const stream = streams.login(sha256(name.toLowerCase()));
    const { state } = await this.ports.streams.load(stream, loginAttemptsDecider);
    const record = (command: LoginAttemptCommand) => decideAndAppend(this.ports.streams, stream, loginAttemptsDecider, command, context);

    // Refused, not recorded: a refusal is no guess, and recording it would let anyone grow
    // the store at line rate or keep a lock going by hammering (see login-attempts.ts).
    const wait = Math.max(accountRetryAfter(state, address, now), await this.addressRetryAfter(address, now));
    if (wait > 0) throw new LoginThrottled(wait);
    const user = await checkUserPassword(this.ports, name, password);
    if (!user) {
      await this.countAddressFailure(address, now);
      await record({ kind: 'RecordLoginFailure', username: name, address, now });
      throw new LoginFailed('invalid username or password');
    }
    await record({ kind: 'RecordLoginSuccess', username: name, address, now });
    return user;
  }

  private async countAddressFailure(address: string, now: Date): Promise<void> {
    await this.addressFailures.record(address, now.getTime());
  }

  private addressRetryAfter(address: string, now: Date): Promise<number> {
    return this.addressFailures.retryAfter(address, ADDRESS_FAILURE_LIMIT, now.getTime());
  }

}
