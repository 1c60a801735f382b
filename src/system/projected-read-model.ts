import { holderDisabled } from '../../projections/disabled-holders.js';
import { liveGrantsOf } from '../../projections/grants.projection.js';
import type { ProjectionRunner } from '../../projections/projection-runner.js';
import type { ProjectionStore } from '../../projections/projection-store.js';
import { pendingBackChannelLogoutsIn } from '../../projections/back-channel-logouts.projection.js';
import { recentAuthorizationsOf } from '../../projections/recent-authorizations.projection.js';
import { liveSignInSessionsOf, signInSessionsOf } from '../../projections/sign-in-sessions.projection.js';
import { activeSigningKey, verifies, type SigningKeyDocument } from '../../projections/signing-keys.projection.js';
import { isRevoked, type TokenStatusDocument } from '../../projections/token-status.projection.js';
import { userKey, type UserDocument } from '../../projections/users.projection.js';
import type { ClientDocument, ClientUsageDocument, ResourceServerDocument } from '../read-model/documents.js';
import type { ReadModel } from '../read-model/read-model.js';

/**
 * The write side's read port (src/read-model), answered from the projections: the one place
 * that knows which projection holds what under which key. Both servers use it over their
 * own projections (a resource server has no clients or grants: those answers are empty).
 */
export class ProjectedReadModel implements ReadModel {
  constructor(
    private readonly store: ProjectionStore,
    private readonly runner: Pick<ProjectionRunner, 'waitFor'>,
  ) {}

  client(clientId: string): ClientDocument | undefined {
    return this.store.get<ClientDocument>('clients', clientId);
  }

  activeClient(clientId: string): ClientDocument | undefined {
    const client = this.client(clientId);
    return client && !client.disabled ? client : undefined;
  }

  clients(): ClientDocument[] {
    return this.store.entries('clients').map(([, doc]) => doc as ClientDocument);
  }

  resourceServer(uri: string): ResourceServerDocument | undefined {
    return this.store.get<ResourceServerDocument>('resource-servers', uri);
  }

  resourceServers(): ResourceServerDocument[] {
    return this.store.entries('resource-servers').map(([, doc]) => doc as ResourceServerDocument);
  }

  firstTokenIssuedTo(clientId: string): string | undefined {
    return this.store.get<ClientUsageDocument>('client-usage', clientId)?.firstTokenIssuedAt;
  }

  userById(userId: string): UserDocument | undefined {
    return this.store.get<UserDocument>('users', userKey.byId(userId));
  }

  userByUsername(username: string): UserDocument | undefined {
    const userId = this.store.get<string>('users', userKey.byUsername(username));
    return userId === undefined ? undefined : this.userById(userId);
  }

  signingKeys(): SigningKeyDocument[] {
    return this.store.entries('signing-keys').map(([, doc]) => doc as SigningKeyDocument);
  }

  verificationKeys(): SigningKeyDocument[] {
    return this.signingKeys().filter(verifies);
  }

  activeSigningKey(alg: SigningKeyDocument['alg'] = 'ES256'): SigningKeyDocument | undefined {
    // A handful of keys at most: finding the active one per token costs next to nothing.
    return activeSigningKey(this.signingKeys().filter((key) => key.alg === alg));
  }

  verificationKey(kid: string): SigningKeyDocument | undefined {
    const key = this.store.get<SigningKeyDocument>('signing-keys', kid);
    return verifies(key) ? key : undefined;
  }

  tokenRevoked(jti: string, grantId: string): boolean {
    return isRevoked((key) => this.store.get<TokenStatusDocument>('token-status', key), jti, grantId);
  }

  holderDisabled(userId: string | null, clientId: string | null): boolean {
    return holderDisabled(this.store, userId, clientId);
  }

  liveGrantsOf(userId: string, now: Date) {
    return liveGrantsOf(this.store, userId, now);
  }

  signInSessionsOf(userId: string) {
    return signInSessionsOf(this.store, userId);
  }

  liveSignInSessionsOf(userId: string, now: Date) {
    return liveSignInSessionsOf(this.store, userId, now);
  }

  recentAuthorizationsOf(userId: string, since: Date) {
    return recentAuthorizationsOf(this.store, userId, since);
  }

  pendingBackChannelLogouts() {
    return pendingBackChannelLogoutsIn(this.store);
  }

  waitFor(position: number): Promise<void> {
    return this.runner.waitFor(position);
  }
}
