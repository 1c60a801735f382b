import { join } from 'node:path';
import { durableConsumerName } from '../resource-server/durable-consumer.js';
import { MemoryProjectionStore, type ProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { resourceServerProjections } from '../../projections/registry.js';
import { SqliteProjectionStore } from '../../projections/sqlite-projection-store.js';
import type { Config } from '../config/config.js';
import type { EventBus } from '../event-bus/event-bus.js';
import type { Logger } from '../observability/logger.js';
import type { ReadinessCheck } from '../observability/health.js';
import { pinoLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { createResourceServerApp } from '../resource-server/app.js';
import { ProjectedReadModel } from './projected-read-model.js';
import { openEventBus } from './adapters.js';
import { listen } from './listen.js';

export interface ResourceServer {
  url: string;
  port: number;
  projections: ProjectionRunner;
  close(): Promise<void>;
}

/**
 * The resource server: its projections are fed by a durable consumer on the event bus,
 * never by the authorization server. With NATS they live in a SQLite file beside the
 * consumer's position; with the in-process bus, in memory, refilled at every start.
 */
export async function startResourceServer(
  config: Config,
  options: { bus?: EventBus; port?: number; logger?: Logger; consumerName?: string; metrics?: Metrics } = {},
): Promise<ResourceServer> {
  const logger = options.logger ?? pinoLogger(undefined, config.logLevel);
  const projectionsFile = join(config.dataDir, 'resource-server-projections.sqlite');
  // Before the projections file is made: whether it was there tells an old data directory from a new one.
  const consumerName = options.consumerName ?? (config.natsUrl ? durableConsumerName(config.dataDir, projectionsFile) : 'resource-server');
  const readModel: ProjectionStore = config.natsUrl ? new SqliteProjectionStore(projectionsFile) : new MemoryProjectionStore();
  const projections = new ProjectionRunner(resourceServerProjections, readModel, logger);
  const bus = options.bus ?? (await openEventBus(config));
  await projections.followBus(bus, consumerName);
  // Not ready until the projections have caught up once since start: before that a revoked token could pass.
  // Nor while one is stuck on an event: revocations after it do not reach this server.
  let caughtUp = false;
  const readiness: Record<string, ReadinessCheck> = {
    projections: async () => {
      const stalled = projections.stallReport();
      if (stalled) return stalled;
      const lag = await projections.lag();
      caughtUp ||= lag === 0;
      return caughtUp ? true : `${lag} events behind the bus`;
    },
    ...(config.natsUrl ? { eventBus: async () => bus.isConnected() || 'NATS is not connected' } : {}),
  };
  const metrics = options.metrics ?? new Metrics();
  metrics.addProjections('resource-server', projections);
  const app = createResourceServerApp(new ProjectedReadModel(readModel, projections), config.issuer, config.resourceServerUrl, logger, readiness, metrics);
  const http = await listen(app, config.host, options.port ?? config.resourceServerPort);
  return {
    url: config.resourceServerUrl,
    port: http.port,
    projections,
    async close() {
      await http.close();
      await projections.stop();
      if (!options.bus) await bus.close();
      readModel.close();
    },
  };
}
