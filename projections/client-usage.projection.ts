import type { ClientUsageDocument } from '../src/read-model/documents.js';
import { projectionOf } from './projection.js';

/**
 * Whether a client was ever issued an access token, by client_id: what the sweep of
 * unused dynamically registered clients asks. Its own small projection rather than a field
 * of the client's document, which every token would otherwise replace (the client's
 * document keys the cache of its secret's hash). Written once per client: later tokens
 * leave the document as it is.
 */
export const clientUsageProjection = projectionOf<ClientUsageDocument>().folding({
  name: 'client-usage',
  handles: ['AccessTokenIssued'],
  keysOf: (event) => [event.data.clientId],
  evolve: (current, event) => current ?? { firstTokenIssuedAt: event.time },
});
