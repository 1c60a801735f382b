import type { ResourceServerDocument } from '../src/read-model/documents.js';
import { projectionOf } from './projection.js';

/** Registered resource servers by URI: what a `resource` parameter (RFC 8707) is checked against. */
export const resourceServersProjection = projectionOf<ResourceServerDocument>().folding({
  name: 'resource-servers',
  handles: ['ResourceServerRegistered', 'ResourceServerDisabled'],
  keysOf: (event) => [event.data.uri],
  evolve: (current, event) => {
    if (event.type === 'ResourceServerRegistered') return { uri: event.data.uri, name: event.data.name, scopes: event.data.scopes };
    return current && { ...current, disabled: true };
  },
});
