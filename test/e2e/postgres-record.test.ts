import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../src/dev/temp-dir.js';
import { runCodeFlow } from '../support/oauth-flow.js';
import { startPostgres, type PrivatePostgres } from '../support/postgres.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';

const alice = { username: 'alice', password: 'correct horse battery' };

describe('the whole server with DATABASE_URL: the record in PostgreSQL', () => {
  const dir = tempDir();
  let postgres: PrivatePostgres;
  let url: string;
  const systems: TestSystem[] = [];
  beforeAll(async () => {
    postgres = await startPostgres();
    url = await postgres.createDatabase('oauth');
  });
  afterAll(async () => {
    for (const system of systems) await system.close();
    await postgres.stop();
    dir.remove();
  });

  it('records a code flow there, feeds the resource server from it, and folds it again after a restart', async () => {
    const first = await startSystem(dir.path, { env: { DATABASE_URL: url } });
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
    expect(existsSync(join(dir.path, 'events.sqlite'))).toBe(false);
    await first.close();
    systems.pop();

    // A fresh process on the same database: the read side is folded from PostgreSQL, not from the data directory's record.
    const second = await startSystem(dir.path, { env: { DATABASE_URL: url } });
    systems.push(second);
    const again = await runCodeFlow(second.config.issuer, web, alice, 'profile');
    expect(again.tokens.access_token).toBeTruthy();
    expect((await postgres.query<{ n: string }>('oauth', 'SELECT count(*) AS n FROM events'))[0].n).not.toBe(String(rows.length));
  });
});
