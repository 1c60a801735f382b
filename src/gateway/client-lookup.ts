import type { Ports } from '../commands/ports.js';
import { clientDecider } from '../domain/client.js';
import { streams } from '../domain/events.js';
import type { ClientDocument } from '../read-model/documents.js';

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,100}$/;

/**
 * A client that may act, as /authorize, the sign-in pages and client authentication look
 * it up. The hot path is the read side, untouched: a hit answers at once. Only a client
 * the read side does not know at all is looked for in its own stream: one registered on
 * another instance a moment ago (RFC 7591: it uses its client_id at once) is in the store
 * before this instance's read side has followed it there. A client the read side knows
 * as disabled or deleted stays refused without a read; an unknown client_id costs one
 * read of an empty stream.
 */
export async function findActiveClient(ports: Pick<Ports, 'readModel' | 'streams'>, clientId: string): Promise<ClientDocument | undefined> {
  const known = ports.readModel.client(clientId);
  if (known) return known.disabled ? undefined : known;
  if (!CLIENT_ID.test(clientId)) return undefined;
  const { state } = await ports.streams.load(streams.client(clientId), clientDecider);
  // A copy: caches keyed by the document (the secret's hash) must not outlive this lookup, as the cached state outlives a rotation.
  return state.metadata && !state.disabled && !state.deleted ? { ...state.metadata } : undefined;
}
