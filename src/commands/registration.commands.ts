import type { CommandContext } from '../cqrs/command-context.js';
import { clientDecider, type ClientCommand, type ClientState } from '../domain/client.js';
import { streams, type ResourceServerRegistered, type ClientDeleted, type ClientRegistered, type SigningKeyGenerated, type UserRegistered } from '../domain/events.js';
import { signingKeyDecider, type SigningKeyCommand, type SigningKeyState } from '../domain/signing-key.js';
import { userDecider, type UserCommand, type UserState } from '../domain/user.js';
import { resourceServerDecider, type ResourceServerCommand, type ResourceServerState } from '../domain/resource-server.js';
import { resourceServerIdOf } from '../domain/resource-indicator.js';
import { deciderHandler, StreamCommand } from './stream-command.js';

export class RegisterClient extends StreamCommand<ClientCommand, ClientState> {
  constructor(client: ClientRegistered['data'], context: CommandContext) {
    super(streams.client(client.clientId), { kind: 'RegisterClient', client }, context);
  }
}

export class RotateClientSecret extends StreamCommand<ClientCommand, ClientState> {
  constructor(clientId: string, context: CommandContext) {
    super(streams.client(clientId), { kind: 'RotateClientSecret' }, context);
  }
}

export class UpdateClient extends StreamCommand<ClientCommand, ClientState> {
  constructor(client: ClientRegistered['data'], context: CommandContext) {
    super(streams.client(client.clientId), { kind: 'UpdateClient', client }, context);
  }
}

export class DeleteClient extends StreamCommand<ClientCommand, ClientState> {
  constructor(clientId: string, reason: ClientDeleted['data']['reason'], context: CommandContext) {
    super(streams.client(clientId), { kind: 'DeleteClient', reason }, context);
  }
}

export class DisableClient extends StreamCommand<ClientCommand, ClientState> {
  constructor(clientId: string, context: CommandContext) {
    super(streams.client(clientId), { kind: 'DisableClient' }, context);
  }
}

export class DisableUser extends StreamCommand<UserCommand, UserState> {
  constructor(username: string, context: CommandContext) {
    super(streams.user(username), { kind: 'DisableUser' }, context);
  }
}

export class RegisterUser extends StreamCommand<UserCommand, UserState> {
  constructor(user: UserRegistered['data'], context: CommandContext) {
    super(streams.user(user.username), { kind: 'RegisterUser', user }, context);
  }
}

export class GenerateSigningKey extends StreamCommand<SigningKeyCommand, SigningKeyState> {
  constructor(key: SigningKeyGenerated['data'], context: CommandContext) {
    super(streams.signingKey(key.kid), { kind: 'GenerateSigningKey', key }, context);
  }
}

export class ActivateSigningKey extends StreamCommand<SigningKeyCommand, SigningKeyState> {
  constructor(kid: string, context: CommandContext) {
    super(streams.signingKey(kid), { kind: 'ActivateSigningKey' }, context);
  }
}

export class SupersedeSigningKey extends StreamCommand<SigningKeyCommand, SigningKeyState> {
  constructor(kid: string, supersededBy: string, retireAfter: string, context: CommandContext) {
    super(streams.signingKey(kid), { kind: 'SupersedeSigningKey', supersededBy, retireAfter }, context);
  }
}

export class RetireSigningKey extends StreamCommand<SigningKeyCommand, SigningKeyState> {
  constructor(kid: string, context: CommandContext) {
    super(streams.signingKey(kid), { kind: 'RetireSigningKey' }, context);
  }
}

export class RegisterResourceServer extends StreamCommand<ResourceServerCommand, ResourceServerState> {
  constructor(resourceServer: Omit<ResourceServerRegistered['data'], 'resourceServerId'>, context: CommandContext) {
    super(streams.resourceServer(resourceServerIdOf(resourceServer.uri)), { kind: 'RegisterResourceServer', resourceServer }, context);
  }
}

export class DisableResourceServer extends StreamCommand<ResourceServerCommand, ResourceServerState> {
  constructor(uri: string, context: CommandContext) {
    super(streams.resourceServer(resourceServerIdOf(uri)), { kind: 'DisableResourceServer' }, context);
  }
}

export const registrationHandlers = [
  deciderHandler(RegisterResourceServer, resourceServerDecider),
  deciderHandler(DisableResourceServer, resourceServerDecider),
  deciderHandler(RegisterClient, clientDecider),
  deciderHandler(RegisterUser, userDecider),
  deciderHandler(RotateClientSecret, clientDecider),
  deciderHandler(DisableClient, clientDecider),
  deciderHandler(UpdateClient, clientDecider),
  deciderHandler(DeleteClient, clientDecider),
  deciderHandler(DisableUser, userDecider),
  deciderHandler(GenerateSigningKey, signingKeyDecider),
  deciderHandler(ActivateSigningKey, signingKeyDecider),
  deciderHandler(SupersedeSigningKey, signingKeyDecider),
  deciderHandler(RetireSigningKey, signingKeyDecider),
];
