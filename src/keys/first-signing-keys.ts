import type { AdminService } from '../admin/admin-service.js';
import type { Lease } from '../checkpoints/lease.js';
import type { Logger } from '../observability/logger.js';
import type { ReadModel } from '../read-model/read-model.js';
import type { EventStore } from '../event-store/event-store.js';
import type { ProjectionRunner } from '../../projections/projection-runner.js';
import { SIGNING_ALGS } from './signing-keys.js';

/**
 * A first signing key for each algorithm that has none, made by one instance only:
 * instances started together on an empty store would otherwise each make their own (the
 * check and the append are not one step). Whoever holds the lease looks again, caught up
 * with the store, and makes what is still missing; the others wait until they see it.
 */
export async function ensureFirstSigningKeys(
  parts: { admin: AdminService; readModel: ReadModel; readSide: ProjectionRunner; store: EventStore },
  lease: Lease,
  logger: Logger,
  timeoutMs = 60_000,
): Promise<void> {
  const missing = () => SIGNING_ALGS.filter((alg) => !parts.readModel.signingKeys().some((key) => key.alg === alg));
  const deadline = Date.now() + timeoutMs;
  try {
    while (missing().length > 0) {
      if (await lease.tryAcquire()) {
        await parts.readSide.waitFor(await parts.store.headPosition());
        for (const alg of missing()) {
          // No token signed with this algorithm exists yet that anyone must verify, so its first key may sign at once.
          const { kid, position } = await parts.admin.rotateSigningKey(0, alg);
          await parts.readSide.waitFor(position);
          logger.info('generated the first signing key', { kid, alg });
        }
        return;
      }
      if (Date.now() > deadline) throw new Error('no first signing keys: another instance holds the lease to make them and does not');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await parts.readSide.waitFor(await parts.store.headPosition());
    }
  } finally {
    // Held or not: a lease may hold a connection or a file open.
    await lease.release();
  }
}
