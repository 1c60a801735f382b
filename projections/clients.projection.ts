import type { ClientDocument } from '../src/read-model/documents.js';
import { projectionOf } from './projection.js';

export type { ClientDocument };

/** Registered clients by client_id: what /authorize and /token look a client up in. */
export const clientsProjection = projectionOf<ClientDocument>().folding({
  name: 'clients',
  handles: ['ClientRegistered', 'ClientDisabled', 'ClientSecretRotated'],
  keysOf: (event) => [event.data.clientId],
  evolve: (current, event) => {
    if (event.type === 'ClientRegistered') return event.data;
    if (!current) return current;
    return event.type === 'ClientSecretRotated' ? { ...current, secretRotatedAt: event.time } : { ...current, disabled: true };
  },
});

/** A client that may act: registered and not disabled. */
export const activeClient = (client: ClientDocument | undefined): ClientDocument | undefined => (client && !client.disabled ? client : undefined);
