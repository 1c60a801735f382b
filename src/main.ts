import { ConfigError, loadConfig, type Service } from './config/config.js';
import { hostsOf } from './event-store/eventstoredb-connection-string.js';
import { databaseOf } from './event-store/postgres-url.js';
import { createDemoClientApp } from './demo-client/app.js';
import { pinoLogger } from './observability/logger.js';
import { createAdminApp } from './observability/admin-server.js';
import { Metrics } from './observability/metrics.js';
import { openEventBus } from './system/adapters.js';
import { startAuthorizationServer } from './system/authorization-server.js';
import { seedDemo } from './system/demo-seed.js';
import { listen } from './system/listen.js';
import { startResourceServer } from './system/resource-server.js';

/**
 * `npm start`: the authorization server, the resource server and the demo client, on the
 * embedded defaults (SQLite event store, in-process bus) unless EVENTSTOREDB_URL and
 * NATS_URL say otherwise.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const runs = (service: Service) => config.services.includes(service);
  const metrics = new Metrics();
  const bus = await openEventBus(config);
  const as = runs('authorization-server') ? await startAuthorizationServer(config, { bus, metrics }) : undefined;
  const seed = as && config.seedDemo ? await seedDemo(as, config) : undefined;
  const rs = runs('resource-server') ? await startResourceServer(config, { bus, metrics }) : undefined;
  const admin = config.adminPort ? await listen(createAdminApp(metrics), config.host, config.adminPort) : undefined;
  const demo = seed && runs('demo-client')
    ? await listen(
        createDemoClientApp({
          issuer: config.issuer,
          resourceServerUrl: config.resourceServerUrl,
          clientId: seed.webClient.clientId,
          clientSecret: seed.webClient.clientSecret,
          redirectUri: seed.webClient.redirectUri,
          scope: seed.webClient.scope,
        }),
        config.host,
        config.demoClientPort,
      )
    : undefined;

  const lines = [
    '',
    'Event-sourced OAuth 2.0 authorization server is running',
    `  event store:          ${config.eventStoreDbUrl ? `EventStoreDB ${hostsOf(config.eventStoreDbUrl)}` : config.databaseUrl ? `PostgreSQL ${databaseOf(config.databaseUrl)}` : `SQLite in ${config.dataDir}`}`,
    `  shared state:         ${config.databaseUrl ? `PostgreSQL ${databaseOf(config.databaseUrl)}` : `SQLite in ${config.dataDir}`}`,
    `  event bus:            ${config.natsUrl ? `NATS JetStream ${config.natsUrl}` : 'in-process'}`,
  ];
  if (admin) lines.push(`  metrics (Prometheus): http://${config.host}:${config.adminPort}/metrics`);
  if (as) lines.push(`  authorization server: ${config.issuer}   (metadata: ${config.issuer}/.well-known/oauth-authorization-server)`);
  if (rs) lines.push(`  resource server:      ${config.resourceServerUrl}`);
  if (seed && demo) {
    lines.push(
      `  demo client:          ${config.demoClientUrl}   <- open this in a browser`,
      `  demo user:            ${seed.user.username} / ${seed.user.password}`,
      `  demo clients:         ${seed.webClient.clientId} (confidential, secret in ${config.dataDir}/demo-client.json), ${seed.publicClient.clientId} (public)`,
      `  sign in a device:     npm run device-login   (the demo-device client, RFC 8628: a code to enter at ${config.issuer}/device)`,
    );
  }
  lines.push('Stop with Ctrl+C.', '');
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await admin?.close();
    await demo?.close();
    await rs?.close();
    await as?.close();
    await bus.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    pinoLogger().error('failed to start', { error: (error as Error)?.message });
  }
  process.exit(1);
});
