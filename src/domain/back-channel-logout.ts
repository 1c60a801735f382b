import type { Decider } from './decider.js';
import type { BackChannelLogoutEvent } from './events.js';

/**
 * What became of telling the clients of one ended sign-in session (OpenID Connect
 * Back-Channel Logout): each client's outcome is recorded once, delivered or given up, on
 * the session's logout stream. Recording it twice (two deliverers, a retry after a restart)
 * changes nothing.
 */
export type BackChannelLogoutCommand =
  | { kind: 'RecordBackChannelLogoutDelivered'; signInSessionId: string; clientId: string; userId: string; attempts: number; jti: string }
  | { kind: 'RecordBackChannelLogoutFailed'; signInSessionId: string; clientId: string; userId: string; attempts: number; lastError: string };

export interface BackChannelLogoutState {
  /** The clients whose outcome is on record. */
  told: string[];
}

export const backChannelLogoutDecider: Decider<BackChannelLogoutCommand, BackChannelLogoutState, BackChannelLogoutEvent> = {
  initialState: { told: [] },
  evolve: (state, event) => ({ told: [...state.told, event.data.clientId] }),
  decide(command, state) {
    if (state.told.includes(command.clientId)) return [];
    const { signInSessionId, clientId, userId, attempts } = command;
    return command.kind === 'RecordBackChannelLogoutDelivered'
      ? [{ type: 'BackChannelLogoutDelivered', data: { signInSessionId, clientId, userId, attempts, jti: command.jti } }]
      : [{ type: 'BackChannelLogoutFailed', data: { signInSessionId, clientId, userId, attempts, lastError: command.lastError } }];
  },
};
