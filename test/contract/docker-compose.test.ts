import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/config.js';

const compose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
if (!compose) console.warn('SKIPPED: docker-compose is not installed (apt-get install -y docker-compose); the compose file was not parsed.');

/** The environment blocks of our own services, read from the file as written. */
function serviceEnvironments(text: string): Record<string, Record<string, string>> {
  const services: Record<string, Record<string, string>> = {};
  let service: string | undefined;
  let inEnvironment = false;
  for (const line of text.split('\n')) {
    const top = /^ {2}([a-z0-9-]+):$/.exec(line);
    if (top) {
      service = top[1];
      inEnvironment = false;
      continue;
    }
    if (/^ {4}environment:$/.test(line)) {
      inEnvironment = true;
      services[service!] = {};
      continue;
    }
    const variable = /^ {6}([A-Z_]+): "(.*)"$/.exec(line);
    if (inEnvironment && variable) services[service!][variable[1]] = variable[2];
    else if (!/^ {6}/.test(line)) inEnvironment = false;
  }
  return services;
}

interface ServiceShape {
  keys: string[];
  dependsOn: Record<string, string>;
}

/** Each service's keys and what it waits for, read from `docker-compose config` (anchors merged, one layout). */
function serviceShapes(normalised: string): Record<string, ServiceShape> {
  const shapes: Record<string, ServiceShape> = {};
  let section: string | undefined;
  let service: ServiceShape | undefined;
  let key: string | undefined;
  let dependency: string | undefined;
  for (const line of normalised.split('\n')) {
    const top = /^([a-z]+):/.exec(line);
    if (top) section = top[1];
    if (section !== 'services') continue;
    const name = /^ {2}([a-z0-9-]+):$/.exec(line);
    if (name) shapes[name[1]] = service = { keys: [], dependsOn: {} };
    const field = /^ {4}([a-z_]+):/.exec(line);
    if (field && service) service.keys.push((key = field[1]));
    const needed = /^ {6}([a-z0-9-]+):$/.exec(line);
    if (needed && key === 'depends_on') dependency = needed[1];
    const condition = /^ {8}condition: (\S+)$/.exec(line);
    if (condition && key === 'depends_on' && service && dependency) service.dependsOn[dependency] = condition[1];
  }
  return shapes;
}

describe('docker-compose.yml', () => {
  (compose ? it : it.skip)(
    `starts each service once what it needs is healthy, and restarts what exits${compose ? '' : ' (SKIPPED: docker-compose not installed)'}`,
    () => {
      const shapes = serviceShapes(execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { encoding: 'utf8' }));
      expect(Object.keys(shapes).sort()).toEqual(['authorization-server-1', 'authorization-server-2', 'eventstoredb', 'nats', 'resource-server']);
      // A cold start: the store takes seconds to listen, and a server that exits before it would stay down.
      for (const [name, shape] of Object.entries(shapes)) {
        expect([name, shape.keys]).toEqual([name, expect.arrayContaining(['restart', 'healthcheck'])]);
        for (const [needed, condition] of Object.entries(shape.dependsOn)) expect([name, needed, condition]).toEqual([name, needed, 'service_healthy']);
      }
      expect(shapes['authorization-server-1'].dependsOn).toEqual({ eventstoredb: 'service_healthy', nats: 'service_healthy' });
      // The second instance starts after the first has written the first signing keys: never two "first" keys.
      expect(shapes['authorization-server-2'].dependsOn).toMatchObject({ 'authorization-server-1': 'service_healthy' });
      expect(shapes['resource-server'].dependsOn).toEqual({ nats: 'service_healthy' });
    },
  );

  (compose ? it : it.skip)(`parses with docker-compose config${compose ? '' : ' (SKIPPED: docker-compose not installed)'}`, () => {
    expect(() => execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { stdio: 'pipe' })).not.toThrow();
  });

  it('configures our services with settings the server accepts, on EventStoreDB and NATS', () => {
    const environments = serviceEnvironments(readFileSync('docker-compose.yml', 'utf8'));
    expect(Object.keys(environments)).toEqual(expect.arrayContaining(['authorization-server-1', 'authorization-server-2', 'resource-server']));
    const as = loadConfig(environments['authorization-server-1']);
    const second = loadConfig(environments['authorization-server-2']);
    // Two instances answer as one issuer, on one store and one bus.
    expect([second.issuer, second.eventStoreDbUrl, second.natsUrl]).toEqual([as.issuer, as.eventStoreDbUrl, as.natsUrl]);
    expect(second.services).toEqual(['authorization-server']);
    expect(as.eventStoreDbUrl).toBe('esdb://eventstoredb:2113?tls=false');
    expect(as.natsUrl).toBe('nats://nats:4222');
    const rs = loadConfig(environments['resource-server']);
    expect(rs.services).toEqual(['resource-server']);
    expect(rs.issuer).toBe(as.issuer);
    expect(rs.resourceServerUrl).toBe(as.resourceServerUrl);
  });
});
