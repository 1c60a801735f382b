import type { ClientRegistered } from '../src/domain/events.js';
import { projectionOf } from './projection.js';

export type ClientDocument = ClientRegistered['data'] & {
  disabled?: true;
  /** A new document at each rotation is also what tells caches of the secret's hash to look again. */
  secretRotatedAt?: string;
};

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
