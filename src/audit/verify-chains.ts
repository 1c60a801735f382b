import type { EventStore } from '../event-store/event-store.js';
import { checkLink, type ChainBreak } from '../event-store/tamper-evidence.js';
import { readLog } from './read-log.js';

export interface VerifyResult {
  checked: number;
  firstBreak: ChainBreak | undefined;
}

/** Recomputes every stream's hash chain over the whole log and names the first event that does not match. */
export async function verifyChains(store: EventStore, onProgress?: (checked: number) => void): Promise<VerifyResult> {
  const lastOfStream = new Map<string, { revision: number; hash: string }>();
  let checked = 0;
  for await (const batch of readLog(store)) {
    for (const event of batch) {
      const broken = checkLink(lastOfStream, event);
      if (broken) return { checked, firstBreak: broken };
      checked += 1;
    }
    onProgress?.(checked);
  }
  return { checked, firstBreak: undefined };
}
