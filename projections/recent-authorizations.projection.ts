import { RECENT_AUTHORIZATIONS_SECONDS, type RecentAuthorization } from '../src/read-model/documents.js';
import { projectionOf } from './projection.js';
import type { ProjectionStore } from './projection-store.js';

export interface RecentAuthorizations {
  /** Oldest first, none older than the window before the newest. */
  authorizations: RecentAuthorization[];
}

const userKey = (userId: string) => `user:${userId}`;
const WINDOW_MS = RECENT_AUTHORIZATIONS_SECONDS * 1000;
const before = (time: string, ms: number) => new Date(Date.parse(time) - ms).toISOString();

/**
 * Each user's authorizations of the last ten minutes (consent given or denied, each one
 * recorded grant): what bounds how fast one signed-in user can make the record grow. Read
 * from the record itself, so every instance that follows the store counts the same, with
 * no write of its own on the authorization's path. A document holds what its window holds
 * and goes once its newest entry is older than the window.
 */
export const recentAuthorizationsProjection = projectionOf<RecentAuthorizations>().folding({
  name: 'recent-authorizations',
  handles: ['ConsentGranted', 'ConsentDenied'],
  keysOf: (event) => [userKey(event.data.userId)],
  evolve: (current, event) => {
    const since = before(event.time, WINDOW_MS);
    const kept = (current?.authorizations ?? []).filter((authorization) => authorization.at > since);
    return { authorizations: [...kept, { clientId: event.data.clientId, at: event.time }] };
  },
  expiresAt: (document) => {
    const newest = document.authorizations.at(-1);
    return newest ? new Date(Date.parse(newest.at) + WINDOW_MS).toISOString() : undefined;
  },
});

export function recentAuthorizationsOf(readModel: Pick<ProjectionStore, 'get'>, userId: string, since: Date): RecentAuthorization[] {
  const at = since.toISOString();
  return (readModel.get<RecentAuthorizations>('recent-authorizations', userKey(userId))?.authorizations ?? []).filter((authorization) => authorization.at > at);
}
