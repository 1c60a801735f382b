import { join } from 'node:path';
import { MemoryProjectionStore, type ProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { resourceServerProjections } from '../../projections/registry.js';
import { SqliteProjectionStore } from '../../projections/sqlite-projection-store.js';
import type { Config } from '../config/config.js';
import type { EventBus } from '../event-bus/event-bus.js';
import { consoleLogger, type Logger } from '../gateway/errors.js';
import { createResourceServerApp } from '../resource-server/app.js';
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
  options: { bus?: EventBus; port?: number; logger?: Logger; consumerName?: string } = {},
): Promise<ResourceServer> {
  const logger = options.logger ?? consoleLogger;
  const readModel: ProjectionStore = config.natsUrl
    ? new SqliteProjectionStore(join(config.dataDir, 'resource-server-projections.sqlite'))
    : new MemoryProjectionStore();
  const projections = new ProjectionRunner(resourceServerProjections, readModel);
  const bus = options.bus ?? (await openEventBus(config));
  await projections.followBus(bus, options.consumerName ?? 'resource-server');
  const app = createResourceServerApp(readModel, config.issuer, config.resourceServerUrl, logger);
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
