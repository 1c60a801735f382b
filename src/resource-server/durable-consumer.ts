import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Data directories from before each resource server had a consumer of its own used this one. */
const SHARED_NAME = 'resource-server';

/**
 * The JetStream durable consumer this resource server reads the events through. Each
 * resource server keeps its own projections, so each needs every event: two servers
 * sharing one durable name would split the stream between them like a work queue, and
 * each would miss the revocations the other was given. So the name is made once per data
 * directory (beside its projections, which it belongs with) and kept across restarts. A
 * directory whose projections predate this keeps the name they were folded under.
 */
export function durableConsumerName(dataDir: string, projectionsFile: string): string {
  const file = join(dataDir, 'resource-server-consumer');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const name = existsSync(projectionsFile) ? SHARED_NAME : `${SHARED_NAME}-${randomBytes(8).toString('hex')}`;
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, `${name}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFileSync(file, 'utf8').trim();
  }
  return name;
}
