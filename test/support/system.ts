import { loadConfig, type Config } from '../../src/config/config.js';
import { InProcessEventBus } from '../../src/event-bus/in-process-event-bus.js';
import { pinoLogger, type Logger } from '../../src/observability/logger.js';
import { startAuthorizationServer, type AuthorizationServer } from '../../src/system/authorization-server.js';
import { startResourceServer, type ResourceServer } from '../../src/system/resource-server.js';
import { freePort } from './free-port.js';
import type { FlowClient } from './oauth-flow.js';

export interface TestSystem {
  config: Config;
  as: AuthorizationServer;
  rs: ResourceServer;
  /** The in-process bus between them (undefined with NATS): another resource server can follow it too. */
  bus?: InProcessEventBus;
  logLines: string[];
  close(): Promise<void>;
}

/** The real (pino) logger, writing into memory, so tests read exactly what would have been logged. */
export function memoryLogger(lines: string[]): Logger {
  return pinoLogger({ write: (line: string) => void lines.push(line.trimEnd()) });
}

/**
 * The authorization server and the resource server on free loopback ports over a data
 * directory. Embedded: one in-process bus between them. With natsUrl: each has its own
 * NATS connection, and the resource server learns everything through JetStream.
 */
export async function startSystem(dataDir: string, options: { natsUrl?: string; env?: Record<string, string> } = {}): Promise<TestSystem> {
  const [asPort, rsPort] = [await freePort(), await freePort()];
  const config = loadConfig({
    DATA_DIR: dataDir,
    AS_PORT: String(asPort),
    RS_PORT: String(rsPort),
    SEED_DEMO: 'false',
    ...(options.natsUrl ? { NATS_URL: options.natsUrl } : {}),
    ...options.env,
  });
  const logLines: string[] = [];
  const logger = memoryLogger(logLines);
  const bus = options.natsUrl ? undefined : new InProcessEventBus();
  const as = await startAuthorizationServer(config, { bus, logger });
  const rs = await startResourceServer(config, { bus, logger });
  return {
    config,
    as,
    rs,
    bus,
    logLines,
    async close() {
      await rs.close();
      await as.close();
      await bus?.close();
    },
  };
}

/** The confidential client most tests use: 'web', HTTP Basic, redirecting to a loopback address nobody listens on. */
export async function registerWebClient(system: TestSystem, scopes: string[] = ['profile']): Promise<FlowClient> {
  const redirectUri = 'http://127.0.0.1:9/cb';
  const { clientSecret } = await system.as.admin.registerClient({ clientId: 'web', name: 'Web', clientType: 'confidential', redirectUris: [redirectUri], scopes });
  return { clientId: 'web', clientSecret, redirectUri };
}
