import type * as oauth from 'oauth4webapi';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { discover, type FlowClient } from './oauth-flow.js';
import { registerWebClient, startSystem, type TestSystem } from './system.js';

export const alice = { username: 'alice', password: 'correct horse battery' };

export interface TokenSuite {
  nats: NatsServer;
  system: TestSystem;
  issuer: string;
  as: oauth.AuthorizationServer;
  web: FlowClient;
}

/**
 * The system the token suites run against: over a real nats-server (the resource server
 * learns everything through JetStream), alice and the `web` client registered. Every
 * secret a test handles goes into `secretsSeen`, to be looked for in the logs at the end.
 */
export async function startTokenSuite(dataDir: string, secretsSeen: Set<string>): Promise<TokenSuite> {
  const nats = await startNatsServer();
  const system = await startSystem(dataDir, { natsUrl: nats.url, env: { KEY_LIFECYCLE_INTERVAL_MS: '50' } });
  await system.as.admin.registerUser({ ...alice, name: 'Alice' });
  const web = await registerWebClient(system, ['profile', 'items:read']);
  secretsSeen.add(web.clientSecret!).add(alice.password);
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  return { nats, system, issuer: system.config.issuer, as: await discover(system.config.issuer), web };
}

/** Stops it all, then checks that the logs said enough and none of the secrets the tests handled. */
export async function stopTokenSuite({ system, nats }: Pick<TokenSuite, 'system' | 'nats'>, secretsSeen: Set<string>): Promise<void> {
  const logs = system.logLines.join('\n');
  await system.close();
  await nats.dispose();
  expect(system.logLines.length).toBeGreaterThan(50);
  for (const secret of secretsSeen) expect(logs).not.toContain(secret);
}
