import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('configuration from the environment', () => {
  it('starts on embedded defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      issuer: 'http://127.0.0.1:3000', authorizationServerPort: 3000, resourceServerPort: 4000, demoClientPort: 5000,
      eventStoreDbUrl: null, natsUrl: null, accessTokenTtlSeconds: 600,
    });
    expect(config.dataDir).toMatch(/data$/);
  });

  it('takes NATS, EventStoreDB, issuer and ports', () => {
    expect(loadConfig({ NATS_URL: 'nats://127.0.0.1:4222', EVENTSTOREDB_URL: 'esdb://db:2113?tls=false', ISSUER: 'https://as.example/', AS_PORT: '8080' }))
      .toMatchObject({ natsUrl: 'nats://127.0.0.1:4222', eventStoreDbUrl: 'esdb://db:2113?tls=false', issuer: 'https://as.example', authorizationServerPort: 8080 });
  });

  it('takes PostgreSQL by DATABASE_URL, with the key that seals its secrets, and names a bad one without echoing it', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@db.example:5432/oauth', SECRET_STORE_KEY: Buffer.alloc(32).toString('base64url') }).databaseUrl).toBe('postgresql://u:p@db.example:5432/oauth');
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
      return '';
    };
    const key = Buffer.alloc(32, 7).toString('base64url');
    // EventStoreDB for the record, PostgreSQL for the shared state.
    expect(problems({ DATABASE_URL: 'postgres://db/oauth', EVENTSTOREDB_URL: 'esdb://localhost:2113?tls=false', SECRET_STORE_KEY: key })).toBe('');
    expect(problems({ SECRET_STORE_KEY: 'c2hvcnQ' })).toMatch(/SECRET_STORE_KEY: each key must be 32 bytes/);
    expect(problems({ SECRET_STORE_KEY_FILE: '/nonexistent/key' })).toMatch(/SECRET_STORE_KEY_FILE: no file/);
    const wrong = problems({ DATABASE_URL: 'mysql://admin:hunter2@db:3306/oauth', SECRET_STORE_KEY: key });
    expect(wrong).toMatch(/DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(wrong).not.toContain('hunter2');
    expect(problems({ DATABASE_URL: 'not a url hunter2' })).toMatch(/^DATABASE_URL must be .*not echoed/);
  });

  it('runs all services by default, and refuses a lone resource server without NATS', () => {
    expect(loadConfig({}).services).toEqual(['authorization-server', 'resource-server', 'demo-client']);
    expect(loadConfig({ SERVICES: 'resource-server', NATS_URL: 'nats://n:4222' }).services).toEqual(['resource-server']);
    expect(() => loadConfig({ SERVICES: 'resource-server' })).toThrow(/needs NATS_URL/);
    expect(() => loadConfig({ SERVICES: 'authorization-server,cache' })).toThrow(/SERVICES must list some of/);
  });

  it('logs at info by default; LOG_LEVEL=error keeps errors only; anything else is refused', () => {
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ LOG_LEVEL: 'error' }).logLevel).toBe('error');
    expect(() => loadConfig({ LOG_LEVEL: 'debug' })).toThrow('LOG_LEVEL must be info or error, got "debug"');
  });

  it('trusts no proxy unless TRUST_PROXY=true', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(() => loadConfig({ TRUST_PROXY: 'yes' })).toThrow('TRUST_PROXY must be true or false, got "yes"');
  });

  it('takes the issuer alone as a client assertion audience unless CLIENT_ASSERTION_AUDIENCE widens it', () => {
    expect(loadConfig({}).clientAssertionAudience).toBe('issuer');
    expect(loadConfig({ CLIENT_ASSERTION_AUDIENCE: 'issuer-or-endpoint' }).clientAssertionAudience).toBe('issuer-or-endpoint');
    expect(() => loadConfig({ CLIENT_ASSERTION_AUDIENCE: 'any' })).toThrow('CLIENT_ASSERTION_AUDIENCE must be issuer or issuer-or-endpoint, got "any"');
  });

  it('names every bad value at once', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ AS_PORT: 'eighty', NATS_URL: 'http://x', EVENTSTOREDB_URL: 'not a url', ISSUER: 'https://as.example/?x=1', ACCESS_TOKEN_TTL: '0' });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toHaveLength(5);
    expect(error!.message).toMatch(/AS_PORT must be a port number/);
    expect(error!.message).toMatch(/NATS_URL must be a nats: or tls: or ws: or wss: URL/);
    expect(error!.message).toMatch(/EVENTSTOREDB_URL must be esdb:\/\/, esdb\+discover:\/\/, kurrentdb:\/\//);
    expect(error!.message).toMatch(/ISSUER must have no query/);
    expect(error!.message).toMatch(/ACCESS_TOKEN_TTL must be a whole number/);
  });
});
