import type { Config } from '../config/config.js';
import type { AuthorizationLimit } from './authorization-limit.js';
import type { LoginGuard } from '../credentials/login-guard.js';
import type { DeviceRequests, UserCodeGuesses } from '../credentials/device-limits.js';
import type { SecretStore } from '../credentials/secret-store.js';
import type { ServerKeys } from '../credentials/server-keys.js';
import type { EventStore } from '../event-store/event-store.js';
import type { FoldedStreams } from '../cqrs/folded-streams.js';
import type { ReadModel } from '../read-model/read-model.js';

/** Signs an access token's claims with the private key of `kid` (the key store's business, src/keys). */
export interface TokenSigner {
  sign(claims: Record<string, unknown>, kid: string, typ?: 'at+jwt' | 'JWT' | 'logout+jwt'): Promise<string>;
}

/** What command handlers are given: the record, the secrets, and the read side. */
export interface Ports {
  store: EventStore;
  /** The store's streams as command handlers decide on them: folded, with hot ones cached. */
  streams: FoldedStreams;
  secrets: SecretStore;
  /** The server's own keys, the same on every instance. */
  serverKeys: ServerKeys;
  signer: TokenSigner;
  readModel: ReadModel;
  config: Config;
  loginGuard: LoginGuard;
  authorizationLimit: AuthorizationLimit;
  /** Wrong user codes by address, on the device verification page (RFC 8628 section 5.1). */
  userCodeGuesses: UserCodeGuesses;
  /** Device authorization requests by address (RFC 8628: each is recorded when made). */
  deviceRequests: DeviceRequests;
}
