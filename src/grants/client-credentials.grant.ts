import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PORTS } from '../cqrs/command-bus.js';
import type { CommandContext } from '../cqrs/command-context.js';
import { InvalidScope } from '../domain/oauth-errors.js';
import type { Ports } from '../commands/ports.js';
import { valuesOf } from '../http/form.js';
import { requestedResources } from './resource-indicators.js';
import { requestedScope, type TokenAudience, type TokenGrant } from './token-grant.js';
import { TokenIssuer, type TokenBinding, type TokenResponse } from './token-issuer.js';

/** RFC 6749 section 4.4: a client acting for itself. */
export class IssueClientCredentialsToken extends Command<TokenResponse> {
  constructor(
    /** Each client_credentials token gets a grant of its own, under an id made for it. */
    readonly grantId: string,
    readonly clientId: string,
    readonly scopes: string[],
    readonly audience: TokenAudience,
    readonly binding: TokenBinding,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(IssueClientCredentialsToken)
export class IssueClientCredentialsTokenHandler implements ICommandHandler<IssueClientCredentialsToken> {
  private readonly issuer: TokenIssuer;
  constructor(@Inject(PORTS) ports: Ports) {
    this.issuer = new TokenIssuer(ports);
  }
  execute(command: IssueClientCredentialsToken): Promise<TokenResponse> {
    return this.issuer.issue(
      command.grantId,
      command.context,
      false,
      (token) => ({ kind: 'IssueClientCredentialsToken', grantId: command.grantId, clientId: command.clientId, scopes: command.scopes, resources: command.audience.resources, now: command.context.now, token }),
      { newStream: true, defaultAudience: command.audience.defaultAudience, ...command.binding },
    );
  }
}

export const clientCredentialsGrant: TokenGrant = {
  grantType: 'client_credentials',
  command(params, client, context, resourceServers, binding) {
    const scopes = requestedScope(params) ?? client.scopes;
    const unknown = scopes.filter((s) => !client.scopes.includes(s));
    if (unknown.length > 0) throw new InvalidScope(`scope not allowed for this client: ${unknown.join(' ')}`);
    // No grant holds what a client acting for itself may have: its registration does.
    const resources = requestedResources(valuesOf(params, 'resource'));
    if (resources) resourceServers.check(client, resources, requestedScope(params));
    return new IssueClientCredentialsToken(context.newId(), client.clientId, scopes, { resources, defaultAudience: resourceServers.defaultFor(client) }, binding, context);
  },
  handlers: [IssueClientCredentialsTokenHandler],
};
