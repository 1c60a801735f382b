import type { ClientRegistered } from '../src/domain/events.js';
import { defineProjection } from './projection.js';

export type ClientDocument = ClientRegistered['data'];

/** Registered clients by client_id: what /authorize and /token look a client up in. */
export const clientsProjection = defineProjection<ClientDocument>({
  name: 'clients',
  keysOf: (event) => (event.type === 'ClientRegistered' ? [String(event.data.clientId)] : []),
  evolve: (_current, event) => event.data as unknown as ClientDocument,
});
