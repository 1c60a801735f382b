import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PORTS } from '../cqrs/command-bus.js';
import type { CommandContext } from '../cqrs/command-context.js';
import { ConcurrencyConflict, decideAndAppend, type Decision } from '../cqrs/decide-and-append.js';
import { randomToken, sha256 } from '../domain/crypto.js';
import { streams } from '../domain/events.js';
import { grantDecider, type GrantState, type SignedIn } from '../domain/grant.js';
import { TemporarilyUnavailable } from '../domain/oauth-errors.js';
import { grantIdOfUserCode, newUserCode, normalizeUserCode, userCodeHash } from '../domain/user-code.js';
import type { Ports } from './ports.js';

/** Codes drawn before giving up: with 2.5 * 10^10 codes, a second draw is already rare. */
const USER_CODE_DRAWS = 5;

export interface DeviceAuthorization {
  /** In clear for the device's answer only: events hold their hashes. */
  deviceCode: string;
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** RFC 8628 section 3.1: a device asks for authorization; it gets a device code to poll with and a user code to show. */
export class RequestDeviceAuthorization extends Command<DeviceAuthorization> {
  constructor(
    readonly clientId: string,
    readonly scopes: string[],
    /** RFC 8707: checked already; the client's default when none was asked for. */
    readonly resources: string[],
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(RequestDeviceAuthorization)
export class RequestDeviceAuthorizationHandler implements ICommandHandler<RequestDeviceAuthorization> {
  private readonly key: Buffer;
  constructor(@Inject(PORTS) private readonly ports: Ports) {
    this.key = ports.serverKeys.deviceUserCode;
  }

  async execute(command: RequestDeviceAuthorization): Promise<DeviceAuthorization> {
    const { deviceCodeTtlSeconds: ttlSeconds, deviceCodeIntervalSeconds: intervalSeconds } = this.ports.config;
    for (let draw = 0; draw < USER_CODE_DRAWS; draw++) {
      const userCode = newUserCode();
      const normalized = normalizeUserCode(userCode)!;
      // The grant's id is the user code's (keyed): the verification page finds the stream from the code.
      const grantId = grantIdOfUserCode(this.key, normalized);
      // As codes and refresh tokens: the grant id, then 256 random bits.
      const deviceCode = `${grantId}.${randomToken(32)}`;
      try {
        await decideAndAppend(
          this.ports.streams,
          streams.grant(grantId),
          grantDecider,
          {
            kind: 'RequestDeviceAuthorization',
            grantId,
            clientId: command.clientId,
            scopes: command.scopes,
            resources: command.resources,
            deviceCodeHash: sha256(deviceCode),
            userCodeHash: userCodeHash(this.key, normalized),
            now: command.context.now,
            ttlSeconds,
            intervalSeconds,
          },
          command.context,
          // No retry on a lost race: the stream exists, so the code is taken (now or before): draw another.
          { newStream: true, retries: 0, remember: true },
        );
        return { deviceCode, userCode, expiresIn: ttlSeconds, interval: intervalSeconds };
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
      }
    }
    throw new TemporarilyUnavailable('no free user code; try again');
  }
}

/** The user's decision on the verification page, for the grant their user code found. */
export class DecideDeviceAuthorization extends Command<Decision<GrantState>> {
  constructor(
    readonly grantId: string,
    readonly userCodeHash: string,
    readonly signedIn: SignedIn,
    readonly approve: boolean,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(DecideDeviceAuthorization)
export class DecideDeviceAuthorizationHandler implements ICommandHandler<DecideDeviceAuthorization> {
  constructor(@Inject(PORTS) private readonly ports: Ports) {}
  execute(command: DecideDeviceAuthorization): Promise<Decision<GrantState>> {
    const { now } = command.context;
    const decision = { userCodeHash: command.userCodeHash, signedIn: command.signedIn, now };
    return decideAndAppend(
      this.ports.streams,
      streams.grant(command.grantId),
      grantDecider,
      command.approve ? { kind: 'ApproveDeviceAuthorization', ...decision } : { kind: 'DenyDeviceAuthorization', ...decision },
      command.context,
      // A device's decision is an authorization like any other: within the same limit (authorization-limit.ts).
      { refuseIf: (state) => state.clientId && this.ports.authorizationLimit.check(command.signedIn.userId, state.clientId, now) },
    );
  }
}

export const deviceAuthorizationHandlers = [RequestDeviceAuthorizationHandler, DecideDeviceAuthorizationHandler];
