import type { ClientDocument } from './clients.projection.js';
import type { ProjectionStore } from './projection-store.js';
import { tokenStatusKey, type TokenStatusDocument } from './token-status.projection.js';
import { userKey, type UserDocument } from './users.projection.js';

/**
 * Whether the user or the client a token was issued to has been disabled since: such a
 * token is served and introspected as revoked, whatever its grant says. Both servers keep
 * the users projection; a disabled client is on the clients projection at the
 * authorization server and on token-status at the resource server, which has no other
 * use for clients. A user or client the read side does not know (yet) is not disabled:
 * the token's signature vouches for it.
 */
export function holderDisabled(readModel: Pick<ProjectionStore, 'get'>, userId: string | null, clientId: string | null): boolean {
  if (userId !== null && readModel.get<UserDocument>('users', userKey.byId(userId))?.disabled) return true;
  if (clientId === null) return false;
  if (readModel.get<ClientDocument>('clients', clientId)?.disabled) return true;
  return readModel.get<TokenStatusDocument>('token-status', tokenStatusKey.client(clientId)) !== undefined;
}
