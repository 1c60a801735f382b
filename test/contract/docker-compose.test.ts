import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';

const compose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
const skipped = compose ? '' : ' (SKIPPED: docker-compose not installed)';
if (!compose) console.warn('SKIPPED: docker-compose is not installed (apt-get install -y docker-compose); the compose files were not parsed.');
const composeIt = compose ? it : it.skip;

const deployments = [
  { name: 'all-PostgreSQL', files: ['docker-compose.yml'], record: 'postgres' },
  { name: 'EventStoreDB + PostgreSQL', files: ['docker-compose.yml', 'docker-compose.eventstoredb.yml'], record: 'eventstoredb' },
] as const;
const instances = ['authorization-server-1', 'authorization-server-2', 'authorization-server-3'];

interface ServiceShape {
  keys: string[];
  restart?: string;
  dependsOn: Record<string, string>;
  environment: Record<string, string>;
  /** Named volumes mounted (anonymous ones and bind mounts are not listed). */
  volumes: string[];
}

/** A scalar as `docker-compose config` prints it: bare, 'single' or "double" quoted. */
function scalar(raw: string): string {
  if (raw.startsWith("'")) return raw.slice(1, -1).replaceAll("''", "'");
  if (raw.startsWith('"')) return JSON.parse(raw) as string;
  return raw;
}

/** Each service as `docker-compose config` prints it (anchors merged, files layered, variables filled in). */
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
    if (name) shapes[name[1]] = service = { keys: [], dependsOn: {}, environment: {}, volumes: [] };
    if (!service) continue;
    const field = /^ {4}([a-z_]+):(?: (.*))?$/.exec(line);
    if (field) service.keys.push((key = field[1]));
    if (field && key === 'restart') service.restart = scalar(field[2]);
    const needed = /^ {6}([a-z0-9-]+):$/.exec(line);
    if (needed && key === 'depends_on') dependency = needed[1];
    const condition = /^ {8}condition: (\S+)$/.exec(line);
    if (condition && key === 'depends_on' && dependency) service.dependsOn[dependency] = condition[1];
    const variable = /^ {6}([A-Z_][A-Z0-9_]*): (.*)$/.exec(line);
    if (variable && key === 'environment') service.environment[variable[1]] = scalar(variable[2]);
    // Short syntax `- source:target[:mode]`, or long syntax with a `source:` line.
    const short = /^ {4}- ([^/.\s][^:\s]*):\//.exec(line);
    const long = /^ {4}[- ] source: ([^/.\s]\S*)$/.exec(line);
    if (key === 'volumes' && (short || long)) service.volumes.push((short ?? long)![1]);
  }
  return shapes;
}

describe('docker-compose.yml and docker-compose.eventstoredb.yml', () => {
  let dir: string;
  /** No `.env` of the reader's: the example values, or the ones a test writes. */
  let emptyEnvFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'compose-'));
    emptyEnvFile = join(dir, 'empty.env');
    writeFileSync(emptyEnvFile, '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function config(files: readonly string[], envFile = emptyEnvFile, quiet = false): string {
    const env = { ...process.env };
    for (const name of ['POSTGRES_PASSWORD', 'SECRET_STORE_KEY', 'COMPOSE_FILE', 'COMPOSE_PROFILES']) delete env[name];
    const args = ['--env-file', envFile, ...files.flatMap((file) => ['-f', file]), 'config', ...(quiet ? ['-q'] : [])];
    return execFileSync('docker-compose', args, { encoding: 'utf8', env, stdio: 'pipe' });
  }

  describe.each(deployments)('$name', ({ files, record }) => {
    composeIt(`parses with docker-compose config${skipped}`, () => {
      expect(() => config(files, emptyEnvFile, true)).not.toThrow();
    });

    composeIt(`starts each service once what it needs is healthy, and restarts what exits${skipped}`, () => {
      const shapes = serviceShapes(config(files));
      const engines = record === 'eventstoredb' ? ['eventstoredb', 'nats', 'postgres'] : ['nats', 'postgres'];
      expect(Object.keys(shapes).sort()).toEqual([...instances, ...engines, 'resource-server'].sort());
      // A cold start: the stores take seconds to listen, and a server that exits before they do would stay down.
      for (const [name, shape] of Object.entries(shapes)) {
        expect([name, shape.keys]).toEqual([name, expect.arrayContaining(['restart', 'healthcheck'])]);
        expect([name, shape.restart]).toEqual([name, 'unless-stopped']);
        for (const [needed, condition] of Object.entries(shape.dependsOn)) expect([name, needed, condition]).toEqual([name, needed, 'service_healthy']);
      }
      const needs = Object.fromEntries(engines.map((engine) => [engine, 'service_healthy']));
      expect(shapes['authorization-server-1'].dependsOn).toEqual(needs);
      // The others start after the first has written the first signing keys: never two "first" keys.
      for (const later of instances.slice(1)) expect(shapes[later].dependsOn).toEqual({ ...needs, 'authorization-server-1': 'service_healthy' });
      expect(shapes['resource-server'].dependsOn).toEqual({ nats: 'service_healthy' });
    });

    composeIt(`shares no volume between services, and gives the instances none${skipped}`, () => {
      const shapes = serviceShapes(config(files));
      // What the instances share lives in PostgreSQL: each could run on a machine of its own.
      for (const name of instances) expect([name, shapes[name].volumes]).toEqual([name, []]);
      const users = new Map<string, string[]>();
      for (const [name, shape] of Object.entries(shapes)) for (const volume of shape.volumes) users.set(volume, [...(users.get(volume) ?? []), name]);
      for (const [volume, names] of users) expect([volume, names.length]).toEqual([volume, 1]);
      expect(shapes.postgres.volumes).toEqual(['postgres-data']);
    });

    composeIt(`configures the instances with settings the server accepts, all on one PostgreSQL${skipped}`, () => {
      const shapes = serviceShapes(config(files));
      const [first, ...others] = instances.map((name) => loadConfig(shapes[name].environment));
      const database = new URL(first.databaseUrl!);
      const postgres = shapes.postgres.environment;
      expect([database.hostname, database.port, database.pathname]).toEqual(['postgres', '5432', `/${postgres.POSTGRES_DB}`]);
      expect([database.username, decodeURIComponent(database.password)]).toEqual([postgres.POSTGRES_USER, postgres.POSTGRES_PASSWORD]);
      expect(first.natsUrl).toBe('nats://nats:4222');
      expect(first.eventStoreDbUrl).toBe(record === 'eventstoredb' ? 'esdb://eventstoredb:2113?tls=false' : null);
      expect(first.services).toEqual(['authorization-server', 'demo-client']);
      // Several instances answer as one issuer, on one record, one shared state and one bus.
      for (const other of others) {
        expect([other.issuer, other.databaseUrl, other.eventStoreDbUrl, other.natsUrl]).toEqual([first.issuer, first.databaseUrl, first.eventStoreDbUrl, first.natsUrl]);
        expect([other.services, other.seedDemo]).toEqual([['authorization-server'], false]);
      }
      // One key for all: each opens the private keys another sealed. 32 bytes, base64url.
      const keys = new Set(instances.map((name) => shapes[name].environment.SECRET_STORE_KEY));
      expect(keys.size).toBe(1);
      const [key] = keys;
      expect(Buffer.from(key!, 'base64url')).toHaveLength(32);
      expect(Buffer.from(key!, 'base64url').toString('base64url')).toBe(key);
      // The value a first `up` uses says what it is, in logs of `docker-compose config` and in the file.
      expect(key).toMatch(/^EXAMPLE-/);
      const rs = loadConfig(shapes['resource-server'].environment);
      expect(rs.services).toEqual(['resource-server']);
      expect([rs.issuer, rs.resourceServerUrl]).toEqual([first.issuer, first.resourceServerUrl]);
    });

    composeIt(`takes the password and the secret store key from .env instead of the examples${skipped}`, () => {
      const key = Buffer.alloc(32, 7).toString('base64url');
      const envFile = join(dir, `${record}.env`);
      writeFileSync(envFile, `POSTGRES_PASSWORD=a-real-password\nSECRET_STORE_KEY=${key}\n`);
      const shapes = serviceShapes(config(files, envFile));
      expect(shapes.postgres.environment.POSTGRES_PASSWORD).toBe('a-real-password');
      for (const name of instances) {
        expect([name, new URL(shapes[name].environment.DATABASE_URL).password]).toEqual([name, 'a-real-password']);
        expect([name, shapes[name].environment.SECRET_STORE_KEY]).toEqual([name, key]);
      }
    });
  });
});
