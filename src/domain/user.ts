import type { Decider } from '../cqrs/decider.js';
import type { UserEvent, UserRegistered } from './events.js';
import { InvalidRequest } from './oauth-errors.js';

export type UserCommand = { kind: 'RegisterUser'; user: UserRegistered['data'] };

export const userDecider: Decider<UserCommand, { registered: boolean }, UserEvent> = {
  initialState: { registered: false },
  evolve: () => ({ registered: true }),
  decide(command, state) {
    if (state.registered) throw new InvalidRequest(`user ${command.user.username} already exists`);
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(command.user.username)) throw new InvalidRequest('username must be 1-64 letters, digits or . _ @ -');
    return [{ type: 'UserRegistered', data: command.user }];
  },
};
