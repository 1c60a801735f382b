import { categoryOf, type RecordedEvent } from '../event-store/event-envelope.js';
import type { EventStore } from '../event-store/event-store.js';
import { readLog } from './read-log.js';

export type HistoryFilter =
  | { grant: string }
  | { user: string }
  | { client: string }
  | { from: string; to: string };

export interface HistoryEntry {
  time: string;
  position: number;
  stream: string;
  revision: number;
  type: string;
  actor: string;
  correlationId: string;
  details: Record<string, unknown>;
}

/** Who did it: the user, the client, or the server itself (detections, key lifecycle). */
export function actorOf(event: RecordedEvent): string {
  const data = event.data as Record<string, unknown>;
  if (typeof data.by === 'string') return data.by;
  // Only the admin command that disables a user ends sessions for this reason.
  if (event.type === 'SignInSessionEnded' && data.reason === 'user_disabled') return 'admin';
  switch (event.type) {
    case 'UserAuthenticated':
    case 'ConsentGranted':
    case 'ConsentDenied':
    case 'SignInSessionStarted':
    case 'SignInSessionEnded':
      return `user:${String(data.userId)}`;
    case 'LoginFailed':
    case 'LoginSucceeded':
      return `address:${String(data.address)}`;
    case 'AuthorizationRequested':
    case 'ClientAssertionAccepted':
    case 'AuthorizationCodeRedeemed':
    case 'DeviceAuthorizationRequested':
    case 'DeviceCodeRedeemed':
    case 'AccessTokenIssued':
    case 'RefreshTokenIssued':
    case 'RefreshTokenRotated':
      return `client:${String(data.clientId ?? '')}`.replace(/client:$/, 'authorization-server');
    // A client that registered itself (RFC 7591), and manages its registration (RFC 7592), acts itself.
    case 'ClientRegistered':
      return data.dynamicRegistration ? `client:${String(data.clientId)}` : 'admin';
    case 'ClientUpdated':
      return `client:${String(data.clientId)}`;
    case 'ClientDeleted':
      return data.reason === 'client_request' ? `client:${String(data.clientId)}` : 'admin';
    case 'UserRegistered':
      return 'admin';
    default:
      return 'authorization-server';
  }
}

/** What an auditor reads in one line; hashes are kept (they prove nothing secret). */
const toEntry = (event: RecordedEvent): HistoryEntry => ({
  time: event.time,
  position: event.position,
  stream: event.stream,
  revision: event.revision,
  type: event.type,
  actor: actorOf(event),
  correlationId: event.correlationId,
  details: event.data,
});

/** The grants (by stream) a user or a client took part in: the first of two passes. */
async function grantStreamsOf(store: EventStore, field: 'userId' | 'clientId', id: string): Promise<Set<string>> {
  const streams = new Set<string>();
  for await (const batch of readLog(store)) {
    for (const event of batch) if (categoryOf(event.stream) === 'grant' && event.data[field] === id) streams.add(event.stream);
  }
  return streams;
}

/**
 * The timeline of one grant, one user, one client, or a time range, read from the event
 * store itself (never NATS), in the order it was recorded.
 */
export async function* history(store: EventStore, filter: HistoryFilter): AsyncGenerator<HistoryEntry> {
  let matches: (event: RecordedEvent) => boolean;
  if ('grant' in filter) {
    const stream = `grant-${filter.grant}`;
    for (const event of await store.readStream(stream)) yield toEntry(event);
    return;
  } else if ('user' in filter) {
    const grants = await grantStreamsOf(store, 'userId', filter.user);
    matches = (e) => grants.has(e.stream) || e.data.userId === filter.user;
  } else if ('client' in filter) {
    const grants = await grantStreamsOf(store, 'clientId', filter.client);
    matches = (e) => grants.has(e.stream) || e.stream === `client-${filter.client}` || (e.type === 'ClientAssertionAccepted' && e.data.clientId === filter.client);
  } else {
    matches = (e) => e.time >= filter.from && e.time < filter.to;
  }
  for await (const batch of readLog(store)) for (const event of batch) if (matches(event)) yield toEntry(event);
}

/** The history query's options as given (command line or HTTP), unchecked. */
export interface HistoryQuery {
  grant?: string;
  user?: string;
  client?: string;
  from?: string;
  to?: string;
}

/** A query that is not one of the four kinds, or has a time that is not one. */
export class BadHistoryQuery extends Error {}

/** ISO 8601 date-time with a zone: Date.parse alone takes "1" or "2026" as times. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A time given by an auditor, as ISO 8601 UTC. */
export const auditTime = (value: string | undefined, name: string): string => {
  if (!value || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) throw new BadHistoryQuery(`${name} must be an ISO 8601 time, like 2026-11-22T10:00:00Z`);
  return new Date(value).toISOString();
};

/**
 * A count given in a query: digits only, within bounds. Number() takes "-1", "0.5",
 * "1e9" and "" as numbers, and a cap checked on those is no cap.
 */
export function wholeNumberIn(value: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(parsed >= min && parsed <= max)) throw new BadHistoryQuery(`${name} must be a whole number from ${min} to ${max}`);
  return parsed;
}

/** Exactly one of grant, user (id or username), client, or from with to. */
export async function historyFilter(store: EventStore, query: HistoryQuery): Promise<HistoryFilter> {
  const chosen = [query.grant, query.user, query.client, query.from ?? query.to].filter((v) => v !== undefined).length;
  if (chosen !== 1) throw new BadHistoryQuery('give one of grant, user, client, or from with to');
  if (query.grant) return { grant: query.grant };
  if (query.user) return { user: await resolveUser(store, query.user) };
  if (query.client) return { client: query.client };
  return { from: auditTime(query.from, 'from'), to: auditTime(query.to, 'to') };
}

/** A username or a user id to the user id, from the users stream. */
export async function resolveUser(store: EventStore, userOrName: string): Promise<string> {
  const [registered] = await store.readStream(`user-${userOrName.toLowerCase()}`);
  return registered ? String(registered.data.userId) : userOrName;
}
