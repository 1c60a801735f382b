import type { Config } from '../config/config.js';
import type { AuthorizationLimit } from './authorization-limit.js';
import type { LoginGuard } from '../credentials/login-guard.js';
import type { SecretStore } from '../credentials/secret-store.js';
import type { EventStore } from '../event-store/event-store.js';
import type { FoldedStreams } from '../cqrs/folded-streams.js';
import type { AccessTokenSigner } from '../keys/signing-keys.js';
import type { ProjectionStore } from '../../projections/projection-store.js';

/** What command handlers are given: the record, the secrets, and the read side. */
export interface Ports {
  store: EventStore;
  /** The store's streams as command handlers decide on them: folded, with hot ones cached. */
  streams: FoldedStreams;
  secrets: SecretStore;
  signer: AccessTokenSigner;
  readModel: ProjectionStore;
  config: Config;
  loginGuard: LoginGuard;
  authorizationLimit: AuthorizationLimit;
}
