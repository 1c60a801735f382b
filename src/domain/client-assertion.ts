import type { Decider } from './decider.js';
import type { ClientAssertionAccepted } from './events.js';
import { InvalidClient } from './oauth-errors.js';

/**
 * A client assertion (RFC 7523) is good once. Its use is an event on a stream named by
 * the client and the assertion's jti, appended only where none exists: the store, shared
 * by every instance, is what remembers the jti, for as long as the record lasts.
 */
export type ClientAssertionCommand = { kind: 'AcceptClientAssertion'; clientId: string; jti: string; expiresAt: Date };

export interface ClientAssertionState {
  used: boolean;
}

export const clientAssertionDecider: Decider<ClientAssertionCommand, ClientAssertionState, ClientAssertionAccepted> = {
  initialState: { used: false },
  evolve: () => ({ used: true }),
  decide(command, state) {
    if (state.used) throw new InvalidClient('this client assertion was already used');
    return [{ type: 'ClientAssertionAccepted', data: { clientId: command.clientId, jti: command.jti, expiresAt: command.expiresAt.toISOString() } }];
  },
};
