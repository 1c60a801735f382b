import type { ClientDocument } from '../src/read-model/documents.js';
import { projectionOf } from './projection.js';

export type { ClientDocument };

/** Registered clients by client_id: what /authorize and /token look a client up in. */
export const clientsProjection = projectionOf<ClientDocument>().folding({
  name: 'clients',
  // 2: updates and deletions (RFC 7592), and when each client was registered.
  version: 2,
  handles: ['ClientRegistered', 'ClientUpdated', 'ClientDisabled', 'ClientSecretRotated', 'ClientDeleted'],
  keysOf: (event) => [event.data.clientId],
  evolve: (current, event) => {
    switch (event.type) {
      case 'ClientRegistered':
        return { ...event.data, registeredAt: event.time };
      case 'ClientUpdated':
        // A new document: caches keyed by it (the secret's hash) look again.
        return current && { ...event.data, ...keptThrough(current) };
      case 'ClientSecretRotated':
        return current && { ...current, secretRotatedAt: event.time };
      case 'ClientDisabled':
        return current && { ...current, disabled: true };
      case 'ClientDeleted':
        // Kept, disabled: its tokens are refused by the client's state (holderDisabled), and its name still shows on the account page.
        return current && { ...current, disabled: true, deleted: { at: event.time, reason: event.data.reason } };
    }
  },
});

/** What an update of the metadata leaves as it was. */
const keptThrough = ({ registeredAt, secretRotatedAt, disabled }: ClientDocument): Partial<ClientDocument> => ({
  ...(registeredAt ? { registeredAt } : {}),
  ...(secretRotatedAt ? { secretRotatedAt } : {}),
  ...(disabled ? { disabled } : {}),
});

/** A client that may act: registered and not disabled. */
export const activeClient = (client: ClientDocument | undefined): ClientDocument | undefined => (client && !client.disabled ? client : undefined);
