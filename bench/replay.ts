import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rebuildProjection } from '../projections/projection-runner.js';
import { grantsProjection } from '../projections/grants.projection.js';
import { tokenStatusProjection } from '../projections/token-status.projection.js';
import { history } from '../src/audit/history.js';
import { verifyChains } from '../src/audit/verify-chains.js';
import { tempDir } from '../src/dev/temp-dir.js';
import { upcast } from '../src/domain/event-catalog.js';
import type { NewEvent } from '../src/event-store/event-envelope.js';
import { SqliteEventStore } from '../src/event-store/sqlite-event-store.js';
import { UpcastingEventStore } from '../src/event-store/upcasting-event-store.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)}`;

/** One grant's worth of events, as the code flow writes them; one grant in ten is then revoked by its user. */
function grant(i: number, t: string): NewEvent[] {
  const grantId = randomUUID();
  const userId = `user-${i % 1000}`;
  const e = (type: string, data: Record<string, unknown>): NewEvent => ({ id: randomUUID(), type, data: { grantId, ...data }, schemaVersion: type === 'AccessTokenIssued' ? 2 : 1, time: t, correlationId: randomUUID(), causationId: null });
  return [
    e('AuthorizationRequested', { clientId: 'bench', redirectUri: 'https://b.example/cb', redirectUriSent: true, scopes: ['profile'], state: null, codeChallenge: 'c'.repeat(43), codeChallengeMethod: 'S256', browserSessionHash: 'h'.repeat(43), expiresAt: t }),
    e('UserAuthenticated', { userId, username: userId, method: 'password' }),
    e('ConsentGranted', { userId, clientId: 'bench', scopes: ['profile'] }),
    e('AuthorizationCodeIssued', { codeHash: 'h'.repeat(43), expiresAt: t }),
    e('AuthorizationCodeRedeemed', { clientId: 'bench' }),
    e('AccessTokenIssued', { grantType: 'authorization_code', jti: `${grantId}.j`, kid: 'k', clientId: 'bench', userId, audience: 'https://rs', scopes: ['profile'], issuedAt: t, expiresAt: t }),
    e('RefreshTokenIssued', { tokenHash: 'h'.repeat(43), expiresAt: t }),
    ...(i % 10 === 0 ? [e('GrantRevoked', { reason: 'revoked_by_user', by: `user:${userId}`, clientId: 'bench', userId })] : []),
  ];
}

/** Samples the resident set while `work` runs; returns the work's result and the peak. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peak: number; before: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, process.memoryUsage().rss), before };
  } finally {
    clearInterval(timer);
  }
}

/** Replay speed over a store of `count` events: history, rebuild, verify, and the memory each takes. */
export async function replaySpeed(count: number): Promise<Array<[string, string, string]>> {
  const dir = tempDir('bench-replay-');
  const raw = new SqliteEventStore(join(dir.path, 'events.sqlite'));
  const store = new UpcastingEventStore(raw, upcast);
  const rows: Array<[string, string, string]> = [];
  try {
    const t = new Date().toISOString();
    const fillStart = performance.now();
    for (let i = 0; (await raw.headPosition()) < count; i++) await raw.append(`grant-${i}-${randomUUID()}`, grant(i, t), 'no_stream');
    const head = await raw.headPosition();
    console.log(`filled ${fmt(head)} events in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`);

    const measure = async (label: string, work: () => Promise<number>) => {
      global.gc?.();
      const start = performance.now();
      const { result: events, peak, before } = await withPeakRss(work);
      const seconds = (performance.now() - start) / 1000;
      console.log(`${label}: ${fmt(events / seconds)} events/s (${seconds.toFixed(1)} s), resident ${mb(before)} -> peak ${mb(peak)} MB`);
      rows.push([`${label} (${fmt(head)} events)`, fmt(events / seconds), 'events/s'], [`  its peak resident memory growth`, mb(peak - before), 'MB']);
    };

    await measure('history replay, time range over the whole log', async () => {
      let n = 0;
      for await (const entry of history(store, { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' })) n += entry.revision >= 0 ? 1 : 0;
      return n;
    });
    await measure('tamper check, every hash chain', async () => (await verifyChains(raw)).checked);
    await measure('projection rebuild, grants (a document per grant)', async () => {
      await rebuildProjection(grantsProjection, store);
      return head;
    });
    await measure('projection rebuild, token-status (a document per revocation)', async () => {
      await rebuildProjection(tokenStatusProjection, store);
      return head;
    });
  } finally {
    await raw.close();
    dir.remove();
  }
  return rows;
}
