import { streams } from '../src/domain/events.js';
import type { PendingBackChannelLogout } from '../src/read-model/documents.js';
import { projectionOf } from './projection.js';
import type { ProjectionStore } from './projection-store.js';

export interface SessionAudience {
  userId: string;
  /** The clients that received an ID token in this sign-in session. */
  clients: string[];
  /** Those whose back-channel logout outcome is on record. */
  told: string[];
  /** When the session ended on record; absent while it lasts. */
  endedAt?: string;
  /** Until when the document matters: the session's expiry, or an hour after its end for the deliveries. */
  keepUntil: string;
}

/** How long after a session ends its logout tokens may still be delivered (retries included). */
export const DELIVERY_WINDOW_SECONDS = 3600;
const later = (time: string, seconds: number) => new Date(Date.parse(time) + seconds * 1000).toISOString();

/**
 * Who must hear that a sign-in session ended (OpenID Connect Back-Channel Logout): the
 * clients that got an ID token in it, and which of them the record says were told. Folded
 * from the record alone, so what is still owed after a restart, or on another instance,
 * is read here again: nothing is lost, nothing told twice. A session's document lives as
 * long as the session could, and past its end as long as deliveries may take.
 */
export const backChannelLogoutsProjection = projectionOf<SessionAudience>().folding({
  name: 'back-channel-logouts',
  handles: ['SignInSessionStarted', 'IdTokenIssued', 'SignInSessionEnded', 'BackChannelLogoutDelivered', 'BackChannelLogoutFailed'],
  keysOf: (event) => {
    switch (event.type) {
      case 'SignInSessionStarted':
      case 'SignInSessionEnded':
        return [streams.signInSessionIdOf(event.stream)];
      case 'IdTokenIssued':
        return event.data.signInSessionId ? [event.data.signInSessionId] : [];
      default:
        return [event.data.signInSessionId];
    }
  },
  evolve: (current, event) => {
    switch (event.type) {
      case 'SignInSessionStarted':
        return current ?? { userId: event.data.userId, clients: [], told: [], keepUntil: event.data.expiresAt };
      case 'IdTokenIssued':
        if (!current || current.clients.includes(event.data.clientId)) return current;
        return { ...current, clients: [...current.clients, event.data.clientId] };
      case 'SignInSessionEnded':
        if (!current || current.clients.length === 0) return undefined;
        return { ...current, endedAt: event.time, keepUntil: later(event.time, DELIVERY_WINDOW_SECONDS) };
      default: {
        if (!current) return current;
        const told = current.told.includes(event.data.clientId) ? current.told : [...current.told, event.data.clientId];
        return current.clients.every((clientId) => told.includes(clientId)) ? undefined : { ...current, told };
      }
    }
  },
  expiresAt: (document) => document.keepUntil,
});

/** The logouts owed: for each ended session, each of its clients not told yet. */
export function pendingBackChannelLogoutsIn(readModel: Pick<ProjectionStore, 'entries'>): PendingBackChannelLogout[] {
  const pending: PendingBackChannelLogout[] = [];
  for (const [signInSessionId, doc] of readModel.entries('back-channel-logouts')) {
    const session = doc as SessionAudience;
    if (!session.endedAt) continue;
    for (const clientId of session.clients) if (!session.told.includes(clientId)) pending.push({ signInSessionId, userId: session.userId, clientId, endedAt: session.endedAt });
  }
  return pending;
}
