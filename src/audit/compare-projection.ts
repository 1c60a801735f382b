import type { Projection } from '../../projections/projection.js';
import type { ProjectionStore } from '../../projections/projection-store.js';
import { rebuildProjection } from '../../projections/projection-runner.js';
import { canonicalJson } from '../event-store/tamper-evidence.js';
import type { EventStore } from '../event-store/event-store.js';

export interface Comparison {
  projection: string;
  position: number;
  rebuiltDocuments: number;
  liveDocuments: number;
  matches: boolean;
  firstDifference: string | undefined;
}

/**
 * Rebuilds a projection from the store into a fresh copy, up to the position the live
 * copy has reached, and compares the two document by document.
 */
export async function compareWithLive(
  projection: Projection,
  store: EventStore,
  live: ProjectionStore,
  onProgress?: (position: number, head: number) => void,
): Promise<Comparison> {
  const position = live.checkpoint(projection.name);
  const rebuilt = await rebuildProjection(projection, store, position, (p) => onProgress?.(p, position));
  const a = rebuilt.entries(projection.name);
  const b = live.entries(projection.name);
  let firstDifference: string | undefined;
  const keys = [...new Set([...a.map(([k]) => k), ...b.map(([k]) => k)])].sort();
  const rebuiltByKey = new Map(a);
  const liveByKey = new Map(b);
  for (const key of keys) {
    if (canonicalJson(rebuiltByKey.get(key)) !== canonicalJson(liveByKey.get(key))) {
      firstDifference = key;
      break;
    }
  }
  return { projection: projection.name, position, rebuiltDocuments: a.length, liveDocuments: b.length, matches: firstDifference === undefined, firstDifference };
}
