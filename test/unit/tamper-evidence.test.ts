import { createHash } from 'node:crypto';
import { canonicalJson, chainHash } from '../../src/event-store/tamper-evidence.js';

/** The chain's definition: SHA-256 of the previous hash, a newline, and the event's canonical JSON. */
const definition = (previous: string | null, envelope: Record<string, unknown>) =>
  createHash('sha256').update(`${previous ?? ''}\n${canonicalJson(envelope)}`).digest('hex');

describe('chain hash', () => {
  const event = {
    id: 'e1', type: 'Thing', stream: 's-1', revision: 3, schemaVersion: 2, time: '2026-11-22T10:00:00.000Z', correlationId: 'c', causationId: null,
    data: { zeta: [1, { b: 'x', a: null }], alpha: 'é"\n', nested: { y: 1, x: true } },
  };

  it('is the hash of the canonical envelope, whether or not the writer hands over the data already encoded', () => {
    expect(chainHash('prev', event)).toBe(definition('prev', event));
    expect(chainHash(null, event, canonicalJson(event.data))).toBe(definition(null, event));
  });

  it('leaves out a member that is undefined, as canonical JSON does', () => {
    const { causationId: _, ...withoutCausation } = event;
    const undefinedCausation = { ...event, causationId: undefined as unknown as null };
    expect(chainHash(null, undefinedCausation)).toBe(definition(null, withoutCausation));
  });
});
