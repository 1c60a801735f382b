import { ExpiringDocuments } from '../../projections/expiring-documents.js';
import { defineProjection } from '../support/projections.js';
import { MemoryProjectionStore } from '../../projections/projection-store.js';

const until = defineProjection<{ until: string }>({ name: 'until', keysOf: () => [], evolve: (current) => current, expiresAt: (doc) => doc.until });
const t = (seconds: number) => new Date(Date.parse('2020-01-01T00:00:00.000Z') + seconds * 1000).toISOString();

describe('expiring documents', () => {
  it('keeps one entry per document however often its expiry moves later, and removes it only once it has passed', () => {
    const documents = new Map<string, { until: string }>();
    const expiring = new ExpiringDocuments(until, new MemoryProjectionStore());
    // A grant refreshed a thousand times: each refresh pushes its life a little further.
    for (let i = 1; i <= 1000; i++) {
      documents.set('g1', { until: t(100 + i) });
      expiring.track('g1', documents.get('g1'));
    }
    expect(expiring.size).toBe(1);
    const current = (key: string) => documents.get(key);
    expect(expiring.expiredBy(t(500), current)).toEqual([]);
    // Its entry came up at 101, and went back in at the document's own time.
    expect(expiring.size).toBe(1);
    expect(expiring.expiredBy(t(1100), current)).toEqual([]);
    expect(expiring.expiredBy(t(1101), current)).toEqual(['g1']);
    expect(expiring.size).toBe(0);
  });

  it('follows an expiry moved sooner, and forgets a document that went', () => {
    const documents = new Map<string, { until: string } | undefined>([['a', { until: t(1000) }], ['b', { until: t(50) }]]);
    const expiring = new ExpiringDocuments(until, new MemoryProjectionStore());
    for (const [key, doc] of documents) expiring.track(key, doc);
    documents.set('a', { until: t(10) });
    expiring.track('a', documents.get('a'));
    documents.set('b', undefined);
    expiring.track('b', undefined);
    const current = (key: string) => documents.get(key);
    expect(expiring.expiredBy(t(60), current)).toEqual(['a']);
    expect(expiring.expiredBy(t(2000), current)).toEqual([]);
  });
});
