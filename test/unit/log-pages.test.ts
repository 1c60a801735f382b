import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { countKept, firstKept, readKept, type PageSource, type RawEntry } from '../../src/event-store/log-pages.js';

/**
 * A log as EventStoreDB's $all is: our events and the server's own, at byte offsets; a read
 * from a position includes it (the cursor is the offset, 'start' the beginning, 'end' the end).
 */
function log(entries: Array<'ours' | 'system'>): { raw: Array<RawEntry<number | 'start' | 'end'>>; ours: RecordedEvent[] } {
  const raw = entries.map((kind, i) => {
    const position = 1000 + i * 317;
    const event = kind === 'ours' ? ({ id: `e${i}`, type: 'Happened', stream: 'thing-1', revision: i, position } as RecordedEvent) : undefined;
    return { cursor: position, position, event };
  });
  return { raw, ours: raw.flatMap((e) => (e.event ? [e.event] : [])) };
}

function forwards(raw: Array<RawEntry<number | 'start' | 'end'>>): PageSource<number | 'start' | 'end'> & { pages: number } {
  const source = async (from: number | 'start' | 'end', maxCount: number) => {
    source.pages++;
    const start = from === 'start' ? 0 : raw.findIndex((e) => e.position >= (from as number));
    return start === -1 ? [] : raw.slice(start, start + maxCount);
  };
  source.pages = 0;
  return source;
}

function backwards(raw: Array<RawEntry<number | 'start' | 'end'>>): PageSource<number | 'start' | 'end'> {
  const reversed = [...raw].reverse();
  return async (from, maxCount) => {
    const start = from === 'end' ? 0 : reversed.findIndex((e) => e.position <= (from as number));
    return start === -1 ? [] : reversed.slice(start, start + maxCount);
  };
}

const between = (systemEvents: number) => log(['ours', ...Array<'system'>(systemEvents).fill('system'), 'ours']);

describe('reading a log past the store\'s own events', () => {
  it('reads past a page full of system events between two of ours, instead of taking it for the end', async () => {
    const { raw, ours } = between(1500);
    const source = forwards(raw);
    expect(await readKept(source, ours[0].position, ours[0].position, 10)).toEqual([ours[1]]);
    expect(source.pages).toBeGreaterThan(1);
    expect(await readKept(forwards(raw), 'start', 0, 10)).toEqual(ours);
  });

  it('starts each page where the raw page ended, so an entry on a page boundary is neither lost nor read twice', async () => {
    for (const pageFill of [0, 1, 9, 10, 11]) {
      const { raw, ours } = log(['ours', ...Array<'system'>(pageFill).fill('system'), 'ours', 'ours', 'system', 'ours']);
      const events = await readKept(forwards(raw), 'start', 0, 2);
      expect(events).toEqual(ours.slice(0, 2));
      const rest = await readKept(forwards(raw), events[1].position, events[1].position, 10);
      expect(rest).toEqual(ours.slice(2));
    }
  });

  it('ends only at a short raw page, and then with what it kept', async () => {
    const { raw, ours } = log(['ours', 'system', 'system']);
    expect(await readKept(forwards(raw), ours[0].position, ours[0].position, 5)).toEqual([]);
    expect(await readKept(forwards([]), 'start', 0, 5)).toEqual([]);
  });

  it('finds the newest of our events behind a run of system events at the end of the log', async () => {
    const { raw, ours } = log(['ours', 'ours', ...Array<'system'>(700).fill('system')]);
    expect((await firstKept(backwards(raw), 'end'))?.position).toBe(ours[1].position);
    expect(await firstKept(backwards(log(Array<'system'>(600).fill('system')).raw), 'end')).toBeUndefined();
  });

  it('counts our events after a position, not the distance between positions, up to a limit', async () => {
    const { raw, ours } = between(900);
    expect(await countKept(forwards(raw), ours[0].position, ours[0].position, 10_000)).toBe(1);
    expect(ours[1].position - ours[0].position).toBeGreaterThan(100);
    const many = log(Array<'ours'>(50).fill('ours'));
    expect(await countKept(forwards(many.raw), 'start', 0, 20)).toBe(20);
  });
});
