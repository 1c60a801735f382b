import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { startNatsServer } from '../src/dev/nats-server.js';
import { tempDir } from '../src/dev/temp-dir.js';
import type { Logger } from '../src/observability/logger.js';
import { startAuthorizationServer } from '../src/system/authorization-server.js';

const quiet: Logger = { info: () => {}, error: (m, f) => console.error(m, f) };

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * From a revocation's HTTP response to the first request the resource server refuses,
 * with the resource server in its own process, fed only over NATS JetStream.
 */
export async function revocationPropagation(count = 1000): Promise<Array<[string, string, string]>> {
  const nats = await startNatsServer();
  const asDir = tempDir('bench-as-');
  const rsDir = tempDir('bench-rs-');
  const [asPort, rsPort] = [await freePort(), await freePort()];
  const env = { NATS_URL: nats.url, AS_PORT: String(asPort), RS_PORT: String(rsPort), SEED_DEMO: 'false' };
  const as = await startAuthorizationServer(loadConfig({ ...env, DATA_DIR: asDir.path }), { logger: quiet });
  const main = join(fileURLToPath(new URL('.', import.meta.url)), '../src/main.js');
  const rs = spawn(process.execPath, [main], { env: { ...process.env, ...env, DATA_DIR: rsDir.path, SERVICES: 'resource-server' }, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const { clientSecret } = await as.admin.registerClient({
      clientId: 'bench', name: 'Bench', clientType: 'confidential', redirectUris: ['https://bench.example/cb'], scopes: ['profile'], grantTypes: ['client_credentials'],
    });
    await as.readSide.waitFor(await as.ports.store.headPosition());
    const issuer = `http://127.0.0.1:${asPort}`;
    const rsUrl = `http://127.0.0.1:${rsPort}/api/profile`;
    const basic = `Basic ${Buffer.from(`bench:${clientSecret}`).toString('base64')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
    for (let i = 0; ; i++) {
      const health = await fetch(`http://127.0.0.1:${rsPort}/healthz`).catch(() => undefined);
      if (health?.ok) break;
      if (i > 200) throw new Error('the resource server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }

    const latencies: number[] = [];
    let polls = 0;
    for (let i = 0; i < count; i++) {
      const token = (await (await fetch(`${issuer}/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' })).json()) as { access_token: string };
      const bearer = { authorization: `Bearer ${token.access_token}` };
      // The resource server must know the signing key first (only the first token waits here).
      while ((await fetch(rsUrl, { headers: bearer })).status !== 200) await new Promise((r) => setTimeout(r, 1));
      const revoked = await fetch(`${issuer}/revoke`, { method: 'POST', headers: form, body: new URLSearchParams({ token: token.access_token }) });
      if (revoked.status !== 200) throw new Error(`revocation answered ${revoked.status}`);
      const start = performance.now();
      for (;;) {
        polls += 1;
        const response = await fetch(rsUrl, { headers: bearer });
        await response.arrayBuffer();
        if (response.status === 401) break;
      }
      latencies.push(performance.now() - start);
    }
    latencies.sort((a, b) => a - b);
    const ms = (v: number) => v.toFixed(2);
    console.log(`revocation propagation over ${count} revocations: p50 ${ms(percentile(latencies, 50))} ms, p99 ${ms(percentile(latencies, 99))} ms, max ${ms(latencies[latencies.length - 1])} ms (${polls} polls)`);
    return [
      [`revocation propagation to a resource server process over NATS, p50 (${count} revocations)`, ms(percentile(latencies, 50)), 'ms'],
      ['revocation propagation, p99', ms(percentile(latencies, 99)), 'ms'],
    ];
  } finally {
    rs.kill('SIGTERM');
    await once(rs, 'exit');
    await as.close();
    await nats.dispose();
    asDir.remove();
    rsDir.remove();
  }
}
