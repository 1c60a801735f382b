import type { UserDocument } from '../src/read-model/documents.js';
import { projectionOf } from './projection.js';

export type { UserDocument };

export const userKey = {
  byId: (userId: string) => `id:${userId}`,
  byUsername: (username: string) => `username:${username.toLowerCase()}`,
};

/** Users by id (for the resource server's profile) and by username (for login). */
export const usersProjection = projectionOf<UserDocument | string>().folding({
  name: 'users',
  // 2: disabled users; 3: updatedAt. A resource server's store folded by an older version is folded again at start.
  version: 3,
  handles: ['UserRegistered', 'UserDisabled'],
  keysOf: (event) => (event.type === 'UserDisabled' ? [userKey.byId(event.data.userId)] : [userKey.byId(event.data.userId), userKey.byUsername(event.data.username)]),
  evolve: (current, event, key) => {
    if (event.type === 'UserDisabled') return typeof current === 'object' ? { ...current, disabled: true } : current;
    return key.startsWith('id:') ? { ...event.data, updatedAt: event.time } : event.data.userId;
  },
});
