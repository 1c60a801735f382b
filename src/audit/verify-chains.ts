import type { EventStore } from '../event-store/event-store.js';
import { checkLink, type ChainBreak } from '../event-store/tamper-evidence.js';
import { readLog } from './read-log.js';

export interface VerifyResult {
  checked: number;
  firstBreak: ChainBreak | undefined;
  /** Positions the store gave out that are no longer in the log (gapless stores only): removed events. */
  missing: { from: number; to: number } | undefined;
}

/**
 * Recomputes every stream's hash chain over the whole log and names the first event that
 * does not match. Where the store numbers events without gaps, a missing position is a
 * removed event too, even the newest of its stream (which its chain alone cannot show),
 * and so is a log that ends below the highest position the store ever gave out.
 */
export async function verifyChains(store: EventStore, onProgress?: (checked: number) => void): Promise<VerifyResult> {
  const gapless = store.highestPositionAssigned !== undefined;
  const lastOfStream = new Map<string, { revision: number; hash: string }>();
  let checked = 0;
  let position = 0;
  for await (const batch of readLog(store)) {
    for (const event of batch) {
      if (gapless && event.position !== position + 1) return { checked, firstBreak: undefined, missing: { from: position + 1, to: event.position - 1 } };
      position = event.position;
      const broken = checkLink(lastOfStream, event);
      if (broken) return { checked, firstBreak: broken, missing: undefined };
      checked += 1;
    }
    onProgress?.(checked);
  }
  const assigned = (await store.highestPositionAssigned?.()) ?? 0;
  return { checked, firstBreak: undefined, missing: assigned > position ? { from: position + 1, to: assigned } : undefined };
}
