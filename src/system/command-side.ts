import { FoldedStreams } from '../cqrs/folded-streams.js';
import type { CommandBus } from '@nestjs/cqrs';
import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { authorizationServerProjections } from '../../projections/registry.js';
import { AdminService } from '../admin/admin-service.js';
import { authorizationHandlers } from '../commands/authorization.commands.js';
import { deviceAuthorizationHandlers } from '../commands/device-authorization.commands.js';
import { revocationHandlers } from '../commands/revocation.commands.js';
import { tokenGrantHandlers } from '../grants/registry.js';
import { signInSessionHandlers } from '../commands/sign-in-session.commands.js';
import type { Ports } from '../commands/ports.js';
import { registrationHandlers } from '../commands/registration.commands.js';
import type { Config } from '../config/config.js';
import { LoginGuard } from '../credentials/login-guard.js';
import { FAILURE_WINDOW_SECONDS } from '../domain/login-attempts.js';
import { AuthorizationLimit } from '../commands/authorization-limit.js';
import { DEVICE_REQUEST_WINDOW_SECONDS, DeviceRequests, USER_CODE_FAILURE_WINDOW_SECONDS, UserCodeGuesses } from '../credentials/device-limits.js';
import { readServerKeys } from '../credentials/server-keys.js';
import { startCommandBus } from '../cqrs/command-bus.js';
import { AccessTokenSigner } from '../keys/signing-keys.js';
import { openEventStore } from './adapters.js';
import { reachEventStore } from '../event-store/first-contact.js';
import { InstrumentedEventStore } from '../observability/instrumented-event-store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { openSharedState, type SharedState } from '../shared-state/shared-state.js';
import { ProjectedReadModel } from './projected-read-model.js';

/**
 * A stream whose state took this many events to read with nothing cached gets a snapshot
 * of it: reading the state of a grant refreshed for months (three events per refresh)
 * then starts near its end, and no command on a cached stream pays for snapshots.
 */
const SNAPSHOT_EVERY = 600;

export interface CommandSide {
  ports: Ports;
  readSide: ProjectionRunner;
  commandBus: CommandBus;
  admin: AdminService;
  /** Secrets, leases, checkpoints, counts and snapshots: SQLite files, or PostgreSQL with DATABASE_URL. */
  shared: SharedState;
  close(): Promise<void>;
}

/**
 * The write side with what it reads: the event store, the secret store, the read side
 * caught up with the store, and the command bus. The server and the command line share it.
 */
export async function openCommandSide(config: Config, metrics?: Metrics, logger?: Logger): Promise<CommandSide> {
  // First: a missing secret store key is a start-up error, before any connection is opened.
  const shared = openSharedState(config, logger);
  const secrets = shared.secrets();
  const store = metrics ? new InstrumentedEventStore(openEventStore(config, logger), metrics) : openEventStore(config, logger);
  let readSide: ProjectionRunner | undefined;
  try {
    // A store started beside the server may not listen yet (a cold docker-compose up): wait for it, bounded.
    const head = await reachEventStore(store, logger);
    const documents = new MemoryProjectionStore();
    readSide = new ProjectionRunner(authorizationServerProjections, documents, logger);
    const readModel = new ProjectedReadModel(documents, readSide);
    readSide.followStore(store);
    await readSide.waitFor(head, 60_000);
    await shared.importLocalSecrets();
    const signer = new AccessTokenSigner(async (kid) => {
      const jwk = await secrets.get('signing_key', kid);
      return jwk ? JSON.parse(jwk) : undefined;
    });
    const serverKeys = await readServerKeys(secrets);
    const streams = new FoldedStreams(store, {}, { store: shared.snapshots(), every: SNAPSHOT_EVERY });
    const loginGuard = new LoginGuard({ streams, readModel, secrets }, shared.addressCounts('address_failures', FAILURE_WINDOW_SECONDS * 1000));
    const authorizationLimit = new AuthorizationLimit(readModel, config.authorizationLimitPerClient, config.authorizationLimitPerUser);
    const userCodeGuesses = new UserCodeGuesses(shared.addressCounts('address_user_code_failures', USER_CODE_FAILURE_WINDOW_SECONDS * 1000));
    const deviceRequests = new DeviceRequests(shared.addressCounts('address_device_requests', DEVICE_REQUEST_WINDOW_SECONDS * 1000));
    const ports: Ports = { store, streams, secrets, serverKeys, signer, readModel, config, loginGuard, authorizationLimit, userCodeGuesses, deviceRequests };
    const cqrs = await startCommandBus(ports, [...registrationHandlers, ...authorizationHandlers, ...deviceAuthorizationHandlers, ...tokenGrantHandlers, ...revocationHandlers, ...signInSessionHandlers]);
    const following = readSide;
    return {
      ports,
      readSide: following,
      commandBus: cqrs.commandBus,
      admin: new AdminService(cqrs.commandBus, ports),
      shared,
      async close() {
        await following.stop();
        await cqrs.close();
        await shared.close();
        await store.close();
      },
    };
  } catch (error) {
    // A start that fails half way leaves no pool, listener or follower behind (tests and embedders start in-process).
    await readSide?.stop().catch(() => undefined);
    await shared.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}
