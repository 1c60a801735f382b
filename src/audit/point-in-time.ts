import type { GrantEvent } from '../domain/events.js';
import { accessTokenStatus, grantDecider, type GrantState } from '../domain/grant.js';
import { entriesOf } from '../domain/grow-only-map.js';
import type { EventStore } from '../event-store/event-store.js';
import { readLog } from './read-log.js';

export interface GrantAtTime {
  grantId: string;
  clientId: string;
  scopes: string[];
  since: string;
  /** The latest expiry of what was live at that moment: the refresh token, or the newest access token. */
  until: string;
}

/**
 * Which clients could act for a user at a moment, with which scopes and until when,
 * computed by replaying the store up to that moment: nothing recorded later counts.
 */
export async function grantsAt(store: EventStore, userId: string, at: string): Promise<GrantAtTime[]> {
  const states = new Map<string, { state: GrantState; since: string | null }>();
  for await (const batch of readLog(store)) {
    for (const event of batch) {
      if (event.time > at || !event.stream.startsWith('grant-')) continue;
      const grantEvent = event as unknown as GrantEvent;
      let entry = states.get(event.stream);
      if (!entry) {
        // Only grants this user signed into matter; AuthorizationRequested comes before we know, so keep it briefly.
        if (event.type !== 'AuthorizationRequested' && event.type !== 'DeviceAuthorizationRequested') continue;
        entry = { state: grantDecider.initialState, since: null };
        states.set(event.stream, entry);
      }
      entry.state = grantDecider.evolve(entry.state, grantEvent);
      if (event.type === 'ConsentGranted') entry.since = event.time;
      if (event.type === 'UserAuthenticated' && event.data.userId !== userId) states.delete(event.stream);
      else if (event.type === 'ConsentDenied') states.delete(event.stream);
    }
  }
  const live: GrantAtTime[] = [];
  for (const { state, since } of states.values()) {
    if (state.userId !== userId || state.revoked || !since || !state.clientId || !state.grantId) continue;
    const expiries = [...entriesOf(state.accessTokens)].filter(([jti]) => !accessTokenStatus(state, jti)!.revoked).map(([, expiresAt]) => expiresAt);
    if (state.refreshTokenExpiresAt) expiries.push(state.refreshTokenExpiresAt);
    const until = expiries.sort().at(-1);
    if (!until || until <= at) continue;
    live.push({ grantId: state.grantId, clientId: state.clientId, scopes: state.scopes, since, until });
  }
  return live.sort((a, b) => (a.since < b.since ? -1 : 1));
}
