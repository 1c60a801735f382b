import type { ClientRegistered } from '../src/domain/events.js';
import { defineProjection } from './projection.js';

export type ClientDocument = ClientRegistered['data'] & { disabled?: true };

/** Registered clients by client_id: what /authorize and /token look a client up in. */
export const clientsProjection = defineProjection<ClientDocument>({
  name: 'clients',
  keysOf: (event) => (event.type === 'ClientRegistered' || event.type === 'ClientDisabled' ? [String(event.data.clientId)] : []),
  evolve: (current, event) => {
    if (event.type === 'ClientRegistered') return event.data as unknown as ClientDocument;
    return current ? { ...current, disabled: true } : current;
  },
});

/** A client that may act: registered and not disabled. */
export const activeClient = (client: ClientDocument | undefined): ClientDocument | undefined => (client && !client.disabled ? client : undefined);
