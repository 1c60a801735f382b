import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PORTS } from '../cqrs/command-bus.js';
import type { CommandContext } from '../cqrs/command-context.js';
import { sha256 } from '../domain/crypto.js';
import { DEVICE_CODE_GRANT_TYPE } from '../domain/events/event-schema.js';
import { badDeviceCode } from '../domain/grant/device.decisions.js';
import { AuthorizationPending, InvalidRequest, SlowDown } from '../domain/oauth-errors.js';
import { grantIdOfToken } from '../domain/token-ids.js';
import type { Ports } from '../commands/ports.js';
import { DevicePolling } from './device-polling.js';
import { valuesOf } from '../http/form.js';
import { requestedResources } from './resource-indicators.js';
import { idTokenAlgOf, type IdTokenAlg, type TokenAudience, type TokenGrant } from './token-grant.js';
import { TokenIssuer, type TokenBinding, type TokenResponse } from './token-issuer.js';

/** RFC 8628 section 3.4: the device polls with its device code until the user has decided. */
export class RedeemDeviceCode extends Command<TokenResponse> {
  /** The grant the device code was issued under: its id travels in the code. */
  readonly grantId: string;
  constructor(
    readonly deviceCode: string,
    readonly clientId: string,
    /** Whether the client is registered for the refresh_token grant. */
    readonly withRefreshToken: boolean,
    /** How the client's ID tokens are signed, should the grant have openid. */
    readonly idTokenAlg: IdTokenAlg,
    /** RFC 8707: the resources this token is to be for (some of the grant's), and the client's default. */
    readonly audience: TokenAudience,
    readonly binding: TokenBinding,
    readonly context: CommandContext,
  ) {
    super();
    this.grantId = grantIdOfToken(deviceCode, badDeviceCode);
  }
}

@CommandHandler(RedeemDeviceCode)
export class RedeemDeviceCodeHandler implements ICommandHandler<RedeemDeviceCode> {
  private readonly issuer: TokenIssuer;
  /** One per instance: the command bus makes one handler. */
  private readonly polling = new DevicePolling();
  constructor(@Inject(PORTS) ports: Ports) {
    this.issuer = new TokenIssuer(ports);
  }

  async execute(command: RedeemDeviceCode): Promise<TokenResponse> {
    const { grantId, context } = command;
    const lastPoll = this.polling.lastPoll(grantId);
    try {
      const response = await this.issuer.issue(grantId, context, command.withRefreshToken, (token, refreshToken, idToken) => ({
        kind: 'RedeemDeviceCode',
        deviceCodeHash: sha256(command.deviceCode),
        clientId: command.clientId,
        resources: command.audience.resources,
        now: context.now,
        ...(lastPoll ? { lastPoll } : {}),
        token,
        refreshToken,
        // Given: this grant passes idTokenAlg.
        idToken: idToken!,
      }), { idTokenAlg: command.idTokenAlg, defaultAudience: command.audience.defaultAudience, resources: command.audience.resources, ...command.binding });
      this.polling.forget(grantId);
      return response;
    } catch (error) {
      // Only a device whose code is good and undecided is paced, so garbage fills nothing.
      if (error instanceof AuthorizationPending || error instanceof SlowDown) this.polling.record(grantId, { at: context.now, intervalSeconds: error.intervalSeconds });
      else this.polling.forget(grantId);
      throw error;
    }
  }
}

export const deviceCodeGrant: TokenGrant = {
  grantType: DEVICE_CODE_GRANT_TYPE,
  command(params, client, context, resourceServers, binding) {
    if (!params.device_code) throw new InvalidRequest('device_code is required');
    const audience = { resources: requestedResources(valuesOf(params, 'resource')), defaultAudience: resourceServers.defaultFor(client) };
    return new RedeemDeviceCode(params.device_code, client.clientId, client.grantTypes.includes('refresh_token'), idTokenAlgOf(client), audience, binding, context);
  },
  handlers: [RedeemDeviceCodeHandler],
};
