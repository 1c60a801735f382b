import type { Decider } from './decider.js';
import type { ResourceServerEvent, ResourceServerRegistered } from './events.js';
import { InvalidRequest } from './oauth-errors.js';
import { isResourceIndicator, resourceServerIdOf } from './resource-indicator.js';
import { isValidScopeToken } from './scope.js';

/** A resource server's registration (stream resource-<hash of its URI>). */
export type ResourceServerCommand =
  | { kind: 'RegisterResourceServer'; resourceServer: Omit<ResourceServerRegistered['data'], 'resourceServerId'> }
  | { kind: 'DisableResourceServer' };
export type ResourceServerState = { uri: string | null; disabled: boolean };

export const resourceServerDecider: Decider<ResourceServerCommand, ResourceServerState, ResourceServerEvent> = {
  initialState: { uri: null, disabled: false },
  evolve: (state, event) => (event.type === 'ResourceServerRegistered' ? { uri: event.data.uri, disabled: false } : { ...state, disabled: true }),
  decide(command, state) {
    if (command.kind === 'DisableResourceServer') {
      if (state.uri === null) throw new InvalidRequest('no such resource server');
      if (state.disabled) throw new InvalidRequest(`resource server ${state.uri} is already disabled`);
      return [{ type: 'ResourceServerDisabled', data: { resourceServerId: resourceServerIdOf(state.uri), uri: state.uri } }];
    }
    const { uri, name, scopes } = command.resourceServer;
    if (state.uri !== null) throw new InvalidRequest(`resource server ${uri} is already registered`);
    if (!isResourceIndicator(uri)) throw new InvalidRequest('a resource server\'s URI must be an absolute http(s) URI without query or fragment (RFC 8707 section 2)');
    if (name.trim() === '' || name.length > 200) throw new InvalidRequest('a resource server needs a name of 1 to 200 characters');
    if (scopes.length === 0 || !scopes.every(isValidScopeToken)) throw new InvalidRequest('a resource server needs at least one well-formed scope');
    return [{ type: 'ResourceServerRegistered', data: { resourceServerId: resourceServerIdOf(uri), uri, name, scopes } }];
  },
};
