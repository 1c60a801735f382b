import { Type } from '@sinclair/typebox';
import { Id, Scopes, define } from './event-schema.js';

/** Resource servers (stream resource-<hash of its URI>): the audiences tokens may be issued for (RFC 8707). */
export const resourceServerEvents = {
  ResourceServerRegistered: define({
    category: 'resource',
    schemaVersion: 1,
    description: 'A resource server was registered: clients may ask for tokens for it with resource=<uri> (RFC 8707), and its tokens carry the URI as aud.',
    data: Type.Object({
      resourceServerId: Id,
      uri: Type.String({ description: 'its resource indicator: an absolute URI without fragment or query, the aud of its tokens' }),
      name: Type.String({ description: 'what the consent and account pages call it' }),
      scopes: Scopes,
    }),
  }),
  ResourceServerDisabled: define({
    category: 'resource',
    schemaVersion: 1,
    description: 'No new token may be issued for the resource server (tokens already issued expire as they would).',
    data: Type.Object({ resourceServerId: Id, uri: Type.String() }),
  }),
};
