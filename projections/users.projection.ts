import type { UserRegistered } from '../src/domain/events.js';
import { defineProjection } from './projection.js';

export type UserDocument = UserRegistered['data'] & { disabled?: true };

export const userKey = {
  byId: (userId: string) => `id:${userId}`,
  byUsername: (username: string) => `username:${username.toLowerCase()}`,
};

/** Users by id (for the resource server's profile) and by username (for login). */
export const usersProjection = defineProjection<UserDocument | string>({
  name: 'users',
  // 2: disabled users. A resource server's store folded by version 1 is folded again at start.
  version: 2,
  keysOf: (event) => {
    if (event.type === 'UserDisabled') return [userKey.byId(String(event.data.userId))];
    if (event.type !== 'UserRegistered') return [];
    const user = event.data as unknown as UserDocument;
    return [userKey.byId(user.userId), userKey.byUsername(user.username)];
  },
  evolve: (current, event, key) => {
    if (event.type === 'UserDisabled') return typeof current === 'object' ? { ...current, disabled: true } : current;
    const user = event.data as unknown as UserDocument;
    return key.startsWith('id:') ? user : user.userId;
  },
});
