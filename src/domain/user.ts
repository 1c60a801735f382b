import type { Decider } from './decider.js';
import type { UserEvent, UserRegistered } from './events.js';
import { InvalidRequest } from './oauth-errors.js';

export type UserCommand = { kind: 'RegisterUser'; user: UserRegistered['data'] } | { kind: 'DisableUser' };
export type UserState = { user: UserRegistered['data'] | null; disabled: boolean };

export const userDecider: Decider<UserCommand, UserState, UserEvent> = {
  initialState: { user: null, disabled: false },
  evolve: (state, event) => (event.type === 'UserRegistered' ? { user: event.data, disabled: false } : { ...state, disabled: true }),
  decide(command, state) {
    if (command.kind === 'DisableUser') {
      if (!state.user) throw new InvalidRequest('no such user');
      if (state.disabled) throw new InvalidRequest(`user ${state.user.username} is already disabled`);
      return [{ type: 'UserDisabled', data: { userId: state.user.userId, username: state.user.username } }];
    }
    const registered = state.user !== null;
    if (registered) throw new InvalidRequest(`user ${command.user.username} already exists`);
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(command.user.username)) throw new InvalidRequest('username must be 1-64 letters, digits or . _ @ -');
    return [{ type: 'UserRegistered', data: command.user }];
  },
};
