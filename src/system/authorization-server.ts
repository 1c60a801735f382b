import { ResourceServers } from '../grants/resource-indicators.js';
import { EndpointProofs } from '../gateway/endpoint-proofs.js';
import { DPoPNonces } from '../keys/dpop-nonces.js';
import type { CommandBus } from '@nestjs/cqrs';
import { LAG_COUNTED_UP_TO, ProjectionRunner } from '../../projections/projection-runner.js';
import { AdminService } from '../admin/admin-service.js';
import type { Ports } from '../commands/ports.js';
import type { Config } from '../config/config.js';
import type { EventBus } from '../event-bus/event-bus.js';
import type { EventStore } from '../event-store/event-store.js';
import { createGatewayApp } from '../gateway/app.js';
import { BrowserCookies, secureCookies } from '../gateway/browser-session.js';
import { ClientAuthenticator } from '../gateway/client-authentication.js';
import { openClientRegistration } from '../gateway/client-registration.js';
import type { ReadinessCheck } from '../observability/health.js';
import { pinoLogger, type Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { KeyLifecycle } from '../keys/key-lifecycle.js';
import { BackChannelLogoutDeliverer } from '../logout/back-channel-logout-deliverer.js';
import { UnusedClientSweeper } from '../admin/unused-client-sweeper.js';
import { ensureFirstSigningKeys } from '../keys/first-signing-keys.js';
import { Relay } from '../relay/relay.js';
import { LeasedRelay } from '../relay/leased-relay.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { openEventBus, relayCheckpoints } from './adapters.js';
import { openCommandSide } from './command-side.js';
import { listen } from './listen.js';
import type { SharedState } from '../shared-state/shared-state.js';

export const SCOPES_SUPPORTED = ['openid', 'profile', 'email', 'offline_access', 'items:read'] as const;

/** Projections this close behind the store still count as caught up: under load the head always moves. */
export const READY_LAG = 100;

export interface AuthorizationServer {
  url: string;
  port: number;
  store: EventStore;
  bus: EventBus;
  relay: Relay;
  /** Whether this instance's relay is the one publishing (it holds the lease, or there is none). */
  relayActive(): boolean;
  readSide: ProjectionRunner;
  keyLifecycle: KeyLifecycle;
  commandBus: CommandBus;
  admin: AdminService;
  ports: Ports;
  shared: SharedState;
  metrics: Metrics;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Share a bus with a resource server in the same process (the embedded default). */
  bus?: EventBus;
  logger?: Logger;
  /** Listen on this port instead of the configured one (0: any free port). */
  port?: number;
  metrics?: Metrics;
}

/**
 * The authorization server: the event store (the record), its in-memory read side
 * rebuilt from the store at start, the command bus, the relay to the event bus, and
 * the Koa gateway.
 */
export async function startAuthorizationServer(config: Config, options: StartOptions = {}): Promise<AuthorizationServer> {
  const logger = options.logger ?? pinoLogger(undefined, config.logLevel);
  const metrics = options.metrics ?? new Metrics();
  const commandSide = await openCommandSide(config, metrics, logger);
  const { ports, readSide, commandBus, admin } = commandSide;
  const { store, readModel } = ports;

  const { shared } = commandSide;
  const holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  await ensureFirstSigningKeys({ admin, readModel, readSide, store }, shared.lease('first-signing-keys', holder, 30_000), logger).catch(async (error: unknown) => {
    await commandSide.close().catch(() => undefined);
    throw error;
  });
  // Logout tokens are sent by one instance: the holder of this lease (the others stand by).
  const logoutLease = shared.lease('back-channel-logout', holder, config.relayLeaseTtlMs);
  const backChannelLogout = new BackChannelLogoutDeliverer(ports, logoutLease, logger, config.backChannelLogout);
  backChannelLogout.start();
  // Unused self-registered clients are swept by one instance: the holder of this lease.
  const sweepLease = shared.lease('unused-client-sweep', holder, config.relayLeaseTtlMs);
  const { unusedClientTtlSeconds, sweepIntervalSeconds } = config.dynamicRegistration;
  const sweeper = new UnusedClientSweeper(admin, sweepLease, { unusedClientTtlSeconds, intervalMs: sweepIntervalSeconds * 1000 }, logger);
  sweeper.start();
  const keyLifecycle = new KeyLifecycle(commandBus, readModel, Math.max(config.accessTokenTtlSeconds, config.idTokenTtlSeconds), logger);
  await keyLifecycle.tick();
  keyLifecycle.start(config.keyLifecycleIntervalMs);

  const bus = options.bus ?? (await openEventBus(config));
  const checkpoints = relayCheckpoints(config, shared);
  const relay = new Relay(store, bus, checkpoints, 'relay', logger);
  // With NATS, instances share the relay's checkpoint and take turns through a lease; the
  // in-process bus belongs to its process, so its relay just runs.
  const leased = config.natsUrl
    ? new LeasedRelay(relay, shared.lease('relay', holder, config.relayLeaseTtlMs), logger)
    : undefined;
  const publisher = leased ?? relay;
  await publisher.start();

  const clients = new ClientAuthenticator(ports, config.issuer, config.clientAssertionAudience);
  const readiness: Record<string, ReadinessCheck> = {
    eventStore: async () => (await store.checkWritable(), true),
    projections: async () => {
      const stalled = readSide.stallReport();
      if (stalled) return stalled;
      const lag = await readSide.lag();
      return lag <= READY_LAG ? true : `${lag} events behind the store`;
    },
    // Beside EventStoreDB the shared state is a second engine that may be away on its own.
    ...(shared.where === 'postgresql' && config.eventStoreDbUrl ? { sharedState: async () => (await shared.check(), true) } : {}),
    ...(config.natsUrl ? { eventBus: async () => bus.isConnected() || 'NATS is not connected' } : {}),
  };
  const registration = openClientRegistration(config, { admin, commandBus, ports, shared }, SCOPES_SUPPORTED);
  const { serverKeys } = ports;
  const app = createGatewayApp({ commandBus, ports, registration, browser: new BrowserCookies(serverKeys.csrf, secureCookies(config)), authorizationRequestKey: serverKeys.authorizationRequest, pushedRequestKey: serverKeys.pushedAuthorizationRequest, logger, clients, metrics, resourceServers: new ResourceServers(ports.readModel, config), endpointProofs: new EndpointProofs(ports, config.issuer, config.dpopNonce === 'required' ? new DPoPNonces(serverKeys.dpopNonce) : undefined) }, SCOPES_SUPPORTED, readiness);
  metrics.gauge('relay_lag_events', 'Events in the store the relay has not published yet (on the instance holding the relay lease)', ['instance_role'], async () => {
    const active = leased?.active ?? true;
    return [[{ instance_role: active ? 'relay' : 'standby' }, active ? await store.countAfter(relay.publishedPosition, LAG_COUNTED_UP_TO) : 0]];
  });
  metrics.addProjections('authorization-server', readSide);
  const http = await listen(app, config.host, options.port ?? config.authorizationServerPort);

  return {
    url: config.issuer,
    port: http.port,
    store,
    bus,
    relay,
    relayActive: () => leased?.active ?? true,
    readSide,
    keyLifecycle,
    commandBus,
    admin,
    ports,
    shared,
    metrics,
    async close() {
      await http.close();
      await keyLifecycle.stop();
      await backChannelLogout.stop();
      await sweeper.stop();
      await sweepLease.release();
      await logoutLease.release();
      // Publish what is committed before letting go: subscribers then miss nothing.
      if (!(await publisher.drain())) logger.error('shutdown: the relay could not publish everything; it resumes from its checkpoint at the next start');
      await publisher.stop();
      if (!options.bus) await bus.close();
      await checkpoints.close();
      await commandSide.close();
    },
  };
}
