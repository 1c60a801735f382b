import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { FoldedStreams } from '../src/cqrs/folded-streams.js';
import { tempDir } from '../src/dev/temp-dir.js';
import { sha256 } from '../src/domain/crypto.js';
import { upcast } from '../src/domain/event-catalog.js';
import { grantDecider } from '../src/domain/grant.js';
import type { NewEvent } from '../src/event-store/event-envelope.js';
import { SqliteEventStore } from '../src/event-store/sqlite-event-store.js';
import { UpcastingEventStore } from '../src/event-store/upcasting-event-store.js';
import { SqliteSnapshotStore } from '../src/snapshots/sqlite-snapshot-store.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * A grant refreshed `refreshes` times, every ten minutes, as the token endpoint records
 * it (ten-minute access tokens, refresh tokens of 30 days): the time to read its state
 * with nothing cached, from its first event (which leaves the snapshot) and from its
 * snapshot, and how many entries its state keeps.
 */
export async function longGrant(refreshes: number): Promise<Array<[string, string, string]>> {
  const dir = tempDir('bench-long-grant-');
  const raw = new SqliteEventStore(join(dir.path, 'events.sqlite'));
  const store = new UpcastingEventStore(raw, upcast);
  const snapshots = new SqliteSnapshotStore(join(dir.path, 'snapshots.sqlite'));
  try {
    const grantId = randomUUID();
    const stream = `grant-${grantId}`;
    let t = Date.parse('2026-01-01T00:00:00.000Z');
    const iso = (ms: number) => new Date(ms).toISOString();
    const event = (type: string, data: Record<string, unknown>): NewEvent => ({
      id: randomUUID(), type, data: { grantId, ...data }, schemaVersion: type === 'AccessTokenIssued' ? 2 : 1, time: iso(t), correlationId: randomUUID(), causationId: null,
    });
    await raw.append(stream, [event('RefreshTokenIssued', { tokenHash: sha256('r0'), expiresAt: iso(t + 30 * 86_400_000) })], 'no_stream');
    let revision = 0;
    for (let i = 0; i < refreshes; i += 100) {
      const batch: NewEvent[] = [];
      for (let k = i; k < Math.min(i + 100, refreshes); k++) {
        t += 600_000;
        batch.push(
          event('RefreshTokenRotated', { previousTokenHash: sha256(`r${k}`) }),
          event('RefreshTokenIssued', { tokenHash: sha256(`r${k + 1}`), expiresAt: iso(t + 30 * 86_400_000) }),
          event('AccessTokenIssued', { grantType: 'refresh_token', jti: `${grantId}.${k}`, kid: 'k', clientId: 'bench', userId: 'u', audience: 'https://rs', scopes: ['profile'], issuedAt: iso(t), expiresAt: iso(t + 600_000) }),
        );
      }
      await raw.append(stream, batch, revision);
      revision += batch.length;
    }
    // A new cache each time: nothing cached, as after a restart.
    const coldLoad = async () => {
      const start = performance.now();
      const folded = await new FoldedStreams(store, { streams: 10 }, { store: snapshots, every: 600 }).load(stream, grantDecider);
      return { ms: performance.now() - start, folded };
    };
    const first = await coldLoad();
    const again = await coldLoad();
    const label = `a grant refreshed ${fmt(refreshes)} times (${fmt(revision + 1)} events), its state read with nothing cached`;
    return [
      [`${label}: from its first event`, first.ms.toFixed(0), 'ms'],
      [`${label}: from its snapshot`, again.ms.toFixed(1), 'ms'],
      [`  what its state keeps: access token ids + spent refresh token hashes (at most about twice those not expired yet)`, `${first.folded.state.accessTokens.size} + ${fmt(first.folded.state.spentRefreshTokenHashes.size)}`, 'entries'],
    ];
  } finally {
    snapshots.close();
    await raw.close();
    dir.remove();
  }
}
