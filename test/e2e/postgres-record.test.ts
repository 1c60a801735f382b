import { readdirSync } from 'node:fs';
import { tempDir } from '../../src/dev/temp-dir.js';
import { runCodeFlow } from '../support/oauth-flow.js';
import { startPostgres, type PrivatePostgres } from '../support/postgres.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';

const alice = { username: 'alice', password: 'correct horse battery' };

describe('the whole server with DATABASE_URL: the record and the shared state in PostgreSQL', () => {
  const dir = tempDir();
  let postgres: PrivatePostgres;
  let url: string;
  let env: Record<string, string>;
  const systems: TestSystem[] = [];
  beforeAll(async () => {
    postgres = await startPostgres();
    url = await postgres.createDatabase('oauth');
    env = { DATABASE_URL: url, SECRET_STORE_KEY: Buffer.alloc(32, 1).toString('base64url') };
  });
  afterAll(async () => {
    for (const system of systems) await system.close();
    await postgres.stop();
    dir.remove();
  });

  it('records a code flow there, feeds the resource server from it, and folds it again after a restart', async () => {
    const first = await startSystem(dir.path, { env });
    systems.push(first);
    await first.as.admin.registerUser({ ...alice, name: 'Alice' });
    const web = await registerWebClient(first);
    const { tokens } = await runCodeFlow(first.config.issuer, web, alice, 'profile');
    await first.rs.projections.waitFor(await first.as.store.headPosition());
    const profile = await fetch(`${first.config.resourceServerUrl}/api/profile`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(profile.status).toBe(200);

    const rows = await postgres.query<{ type: string }>('oauth', 'SELECT type FROM events ORDER BY position');
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(['UserRegistered', 'ClientRegistered', 'AuthorizationRequested', 'AuthorizationCodeRedeemed', 'AccessTokenIssued']));
    expect(rows.length).toBe(await first.as.store.headPosition());
    // Nothing in the data directory: no record, no secrets, no leases, no counts, no snapshots.
    expect(readdirSync(dir.path).filter((name) => name.endsWith('.sqlite') || name.endsWith('.key'))).toEqual([]);
    const secrets = await postgres.query<{ kind: string; value: string }>('oauth', 'SELECT kind, value FROM secrets');
    expect(secrets.map((row) => row.kind)).toEqual(expect.arrayContaining(['signing_key', 'server_secret', 'password', 'client_secret']));
    // Private keys and server keys are sealed: no JWK, no private scalar, in the database.
    for (const row of secrets.filter((r) => r.kind === 'signing_key' || r.kind === 'server_secret')) expect(row.value).toMatch(/^sealed\.v1\./);
    await first.close();
    systems.pop();

    // A fresh process on the same database: the read side is folded from PostgreSQL, not from the data directory's record.
    const second = await startSystem(dir.path, { env });
    systems.push(second);
    const again = await runCodeFlow(second.config.issuer, web, alice, 'profile');
    expect(again.tokens.access_token).toBeTruthy();
    expect((await postgres.query<{ n: string }>('oauth', 'SELECT count(*) AS n FROM events'))[0].n).not.toBe(String(rows.length));
  });
});
