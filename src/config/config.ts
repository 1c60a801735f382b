import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSecretStoreKeys } from '../credentials/sealed-secrets.js';
import { isValidScopeToken } from '../domain/scope.js';
import { connectionStringProblem } from '../event-store/eventstoredb-connection-string.js';
import { databaseUrlProblem } from '../event-store/postgres-url.js';

export interface Config {
  dataDir: string;
  issuer: string;
  host: string;
  authorizationServerPort: number;
  resourceServerPort: number;
  resourceServerUrl: string;
  demoClientPort: number;
  /** Prometheus metrics: /metrics on this port (0: no admin port). */
  adminPort: number;
  demoClientUrl: string;
  eventStoreDbUrl: string | null;
  /** PostgreSQL: the record, unless EventStoreDB is, and the state instances share (docs/postgresql.md, docs/shared-state.md). */
  databaseUrl: string | null;
  /** Seals private signing keys and server keys at rest (src/credentials/sealed-secrets.ts); never echoed. */
  secretStoreKey: string | null;
  secretStoreKeyFile: string | null;
  natsUrl: string | null;
  accessTokenTtlSeconds: number;
  /** How long an OpenID Connect ID token is valid. */
  idTokenTtlSeconds: number;
  authorizationCodeTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** How long a browser stays signed in after a password sign-in (0: ask for the password every time). */
  signInSessionTtlSeconds: number;
  /** How long a new signing key is published before it signs (JWKS caches must have seen it). */
  signingKeyActivationDelaySeconds: number;
  /** How often the key lifecycle (activate, supersede, retire) is checked. */
  keyLifecycleIntervalMs: number;
  /** How long a relay lease lasts unrenewed: how soon another instance takes over from a dead one. */
  relayLeaseTtlMs: number;
  seedDemo: boolean;
  /** info: a line per request and the server's news; error: errors only. */
  logLevel: LogLevel;
  /** Behind a reverse proxy: the client's address is the one it adds to X-Forwarded-For. */
  trustProxy: boolean;
  /** Which parts this process runs. */
  services: Service[];
  /**
   * What a private_key_jwt assertion may name as its audience: the issuer alone (the
   * update of RFC 7523), or also the token endpoint URL, for clients written before it.
   */
  clientAssertionAudience: 'issuer' | 'issuer-or-endpoint';
  /** Authorizations recorded per user and client, and per user in all, within ten minutes (src/commands/authorization-limit.ts). */
  authorizationLimitPerClient: number;
  authorizationLimitPerUser: number;
  /** OpenID Connect Back-Channel Logout: attempts per client, the first wait (doubled each time), a receiver's time to answer, how often to look. */
  backChannelLogout: { attempts: number; retryMs: number; timeoutMs: number; intervalMs: number };
  /** Sign-in sessions a user may have at once; a new one ends the oldest beyond it. */
  maxSignInSessionsPerUser: number;
  /** DPoP (RFC 9449 section 8): whether proofs at the token endpoint must carry the server's nonce. */
  dpopNonce: 'required' | 'off';
  /** RFC 9126 section 5: every client must push its authorization requests. */
  requirePushedAuthorizationRequests: boolean;
  /** RFC 8628: how long a device code and its user code are good, and the seconds a device waits between polls. */
  deviceCodeTtlSeconds: number;
  deviceCodeIntervalSeconds: number;
  /** Dynamic client registration (RFC 7591, docs/client-registration.md). */
  dynamicRegistration: {
    /** open: native apps without a token, others with an initial access token; initial-access-token: all with one; off: no endpoint. */
    policy: DynamicRegistrationPolicy;
    /** Scopes a dynamic client may register; null: every scope the server supports. */
    scopes: string[] | null;
    /** Open registrations per client address per hour. */
    limitPerAddress: number;
    /** A dynamic client never issued a token this long after it registered may be swept (`oauth-admin client sweep`). */
    unusedClientTtlSeconds: number;
    /** How often the server sweeps them itself (0: never; leave it to the command line). */
    sweepIntervalSeconds: number;
  };
}

export const DYNAMIC_REGISTRATION_POLICIES = ['open', 'initial-access-token', 'off'] as const;
export type DynamicRegistrationPolicy = (typeof DYNAMIC_REGISTRATION_POLICIES)[number];

export const SERVICES = ['authorization-server', 'resource-server', 'demo-client'] as const;
export type Service = (typeof SERVICES)[number];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export const LOG_LEVELS = ['info', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type Env = Record<string, string | undefined>;

/**
 * Reads the configuration from environment variables and checks every value, naming
 * each bad one, so a misconfigured server refuses to start rather than half-works.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) problems.push(`${name} must be a port number from 0 to 65535, got "${raw}"`);
    return value;
  };
  const whole = (unit: string) => (name: string, fallback: number, max: number, min = 1): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be a whole number of ${unit} from ${min} to ${max}, got "${raw}"`);
    return value;
  };
  const seconds = whole('seconds');
  const milliseconds = whole('milliseconds');
  const url = (name: string, fallback: string | null, protocols: string[]): string | null => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) problems.push(`${name} must be a ${protocols.join(' or ')} URL, got "${raw}"`);
    } catch {
      problems.push(`${name} must be a URL, got "${raw}"`);
    }
    return raw;
  };

  const host = env.HOST || '127.0.0.1';
  const asPort = port('AS_PORT', 3000);
  const rsPort = port('RS_PORT', 4000);
  const demoPort = port('DEMO_PORT', 5000);
  const adminPort = port('ADMIN_PORT', 9464);
  const issuer = url('ISSUER', `http://${host}:${asPort}`, ['http:', 'https:'])!;
  // RFC 8414 section 2: the issuer has no query or fragment.
  if (/[?#]/.test(issuer)) problems.push(`ISSUER must have no query or fragment, got "${issuer}"`);
  const config: Config = {
    dataDir: resolve(env.DATA_DIR || 'data'),
    issuer: issuer.replace(/\/$/, ''),
    host,
    authorizationServerPort: asPort,
    resourceServerPort: rsPort,
    resourceServerUrl: (url('RS_URL', `http://${host}:${rsPort}`, ['http:', 'https:']) ?? '').replace(/\/$/, ''),
    demoClientPort: demoPort,
    adminPort,
    demoClientUrl: (url('DEMO_URL', `http://${host}:${demoPort}`, ['http:', 'https:']) ?? '').replace(/\/$/, ''),
    // Checked with the client's grammar, not as a URL: a list of cluster hosts is not one. Not echoed: it may hold a password.
    eventStoreDbUrl: ((raw) => {
      const problem = raw ? connectionStringProblem(raw) : undefined;
      if (problem) problems.push(`EVENTSTOREDB_URL ${problem}`);
      return raw || null;
    })(env.EVENTSTOREDB_URL),
    databaseUrl: ((raw) => {
      const problem = raw ? databaseUrlProblem(raw) : undefined;
      if (problem) problems.push(`DATABASE_URL ${problem}`);
      return raw || null;
    })(env.DATABASE_URL),
    secretStoreKey: env.SECRET_STORE_KEY || null,
    secretStoreKeyFile: env.SECRET_STORE_KEY_FILE ? resolve(env.SECRET_STORE_KEY_FILE) : null,
    natsUrl: url('NATS_URL', null, ['nats:', 'tls:', 'ws:', 'wss:']),
    accessTokenTtlSeconds: seconds('ACCESS_TOKEN_TTL', 600, 86_400),
    idTokenTtlSeconds: seconds('ID_TOKEN_TTL', 3600, 86_400),
    authorizationCodeTtlSeconds: seconds('AUTHORIZATION_CODE_TTL', 60, 600),
    refreshTokenTtlSeconds: seconds('REFRESH_TOKEN_TTL', 30 * 86_400, 365 * 86_400),
    signInSessionTtlSeconds: seconds('SIGN_IN_SESSION_TTL', 8 * 3600, 30 * 86_400, 0),
    signingKeyActivationDelaySeconds: seconds('SIGNING_KEY_ACTIVATION_DELAY', 90, 86_400, 0),
    keyLifecycleIntervalMs: milliseconds('KEY_LIFECYCLE_INTERVAL_MS', 5000, 3_600_000, 10),
    relayLeaseTtlMs: milliseconds('RELAY_LEASE_TTL_MS', 5000, 600_000, 100),
    seedDemo: env.SEED_DEMO !== 'false',
    logLevel: (env.LOG_LEVEL || 'info') as LogLevel,
    trustProxy: env.TRUST_PROXY === 'true',
    services: (env.SERVICES || SERVICES.join(',')).split(',').map((s) => s.trim()) as Service[],
    clientAssertionAudience: (env.CLIENT_ASSERTION_AUDIENCE || 'issuer') as Config['clientAssertionAudience'],
    authorizationLimitPerClient: whole('authorizations')('AUTHORIZATION_LIMIT_PER_CLIENT', 30, 100_000),
    authorizationLimitPerUser: whole('authorizations')('AUTHORIZATION_LIMIT_PER_USER', 100, 1_000_000),
    maxSignInSessionsPerUser: whole('sessions')('MAX_SIGN_IN_SESSIONS_PER_USER', 10, 1000),
    dpopNonce: (env.DPOP_NONCE || 'required') as Config['dpopNonce'],
    requirePushedAuthorizationRequests: env.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS === 'true',
    deviceCodeTtlSeconds: seconds('DEVICE_CODE_TTL', 600, 1800),
    deviceCodeIntervalSeconds: seconds('DEVICE_CODE_INTERVAL', 5, 60),
    backChannelLogout: {
      attempts: whole('attempts')('BACKCHANNEL_LOGOUT_ATTEMPTS', 6, 100),
      retryMs: milliseconds('BACKCHANNEL_LOGOUT_RETRY_MS', 1000, 3_600_000, 10),
      timeoutMs: milliseconds('BACKCHANNEL_LOGOUT_TIMEOUT_MS', 5000, 60_000, 10),
      intervalMs: milliseconds('BACKCHANNEL_LOGOUT_INTERVAL_MS', 1000, 60_000, 10),
    },
    dynamicRegistration: {
      policy: (env.DYNAMIC_REGISTRATION || 'open') as DynamicRegistrationPolicy,
      scopes: env.DYNAMIC_REGISTRATION_SCOPES ? env.DYNAMIC_REGISTRATION_SCOPES.split(' ').filter(Boolean) : null,
      limitPerAddress: whole('registrations')('REGISTRATION_LIMIT_PER_ADDRESS', 20, 100_000),
      unusedClientTtlSeconds: seconds('UNUSED_CLIENT_TTL', 7 * 86_400, 365 * 86_400),
      sweepIntervalSeconds: seconds('UNUSED_CLIENT_SWEEP_INTERVAL', 3600, 7 * 86_400, 0),
    },
  };
  if (!(DYNAMIC_REGISTRATION_POLICIES as readonly string[]).includes(config.dynamicRegistration.policy)) {
    problems.push(`DYNAMIC_REGISTRATION must be ${DYNAMIC_REGISTRATION_POLICIES.join(', ')}, got "${env.DYNAMIC_REGISTRATION}"`);
  }
  if (config.dynamicRegistration.scopes?.some((scope) => !isValidScopeToken(scope))) {
    problems.push(`DYNAMIC_REGISTRATION_SCOPES must be space-separated scope tokens, got "${env.DYNAMIC_REGISTRATION_SCOPES}"`);
  }
  if (!['required', 'off'].includes(config.dpopNonce)) problems.push(`DPOP_NONCE must be required or off, got "${env.DPOP_NONCE}"`);
  if (!['issuer', 'issuer-or-endpoint'].includes(config.clientAssertionAudience)) {
    problems.push(`CLIENT_ASSERTION_AUDIENCE must be issuer or issuer-or-endpoint, got "${env.CLIENT_ASSERTION_AUDIENCE}"`);
  }
  const unknownServices = config.services.filter((s) => !(SERVICES as readonly string[]).includes(s));
  if (unknownServices.length > 0) problems.push(`SERVICES must list some of ${SERVICES.join(', ')}, got "${unknownServices.join(',')}"`);
  if (!config.services.includes('authorization-server') && !config.natsUrl) {
    problems.push('SERVICES without authorization-server needs NATS_URL: the in-process bus cannot reach another process');
  }
  if (config.services.includes('demo-client') && !config.services.includes('authorization-server')) {
    problems.push('SERVICES: the demo client runs beside the authorization server, which seeds its credentials');
  }
  if (config.secretStoreKey) {
    try {
      parseSecretStoreKeys(config.secretStoreKey);
    } catch (error) {
      problems.push(`SECRET_STORE_KEY: ${(error as Error).message}`);
    }
  }
  if (config.secretStoreKeyFile && !existsSync(config.secretStoreKeyFile)) problems.push(`SECRET_STORE_KEY_FILE: no file ${config.secretStoreKeyFile}`);
  if (config.secretStoreKey && config.secretStoreKeyFile) problems.push('SECRET_STORE_KEY and SECRET_STORE_KEY_FILE are both set: set one');
  if (!(LOG_LEVELS as readonly string[]).includes(config.logLevel)) problems.push(`LOG_LEVEL must be ${LOG_LEVELS.join(' or ')}, got "${env.LOG_LEVEL}"`);
  for (const name of ['SEED_DEMO', 'TRUST_PROXY', 'REQUIRE_PUSHED_AUTHORIZATION_REQUESTS']) {
    if (env[name] !== undefined && !['true', 'false'].includes(env[name]!)) problems.push(`${name} must be true or false, got "${env[name]}"`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
