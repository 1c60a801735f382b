import { Type } from '@sinclair/typebox';
import { Id, define } from './event-schema.js';
import { registrationEvents } from './registration.events.js';

/**
 * A client's registration managed after the fact (RFC 7592), on its own stream
 * client-<clientId>. Neither carries a secret: the registration access token and the
 * client secret live as hashes in the secret store.
 */
export const clientManagementEvents = {
  ClientUpdated: define({
    category: 'client',
    schemaVersion: 1,
    description: 'The client replaced its registered metadata (RFC 7592 section 2.2): the data is the whole registration as it now stands.',
    data: registrationEvents.ClientRegistered.data,
  }),
  ClientDeleted: define({
    category: 'client',
    schemaVersion: 1,
    description:
      'The client is gone (RFC 7592 section 2.3): it may no longer authorize or obtain tokens, and tokens issued to it are refused. ' +
      'client_request: it asked itself; unused: an administrator swept it, having been registered dynamically and never given a token.',
    data: Type.Object({ clientId: Id, reason: Type.Union([Type.Literal('client_request'), Type.Literal('unused')]) }),
  }),
};
