import { constantTimeEqual, randomToken } from '../../src/domain/crypto.js';

describe('random tokens from the pool', () => {
  it('are distinct, of the asked length, across many refills of the pool', () => {
    const tokens = Array.from({ length: 5_000 }, (_, i) => randomToken(i % 2 === 0 ? 16 : 32));
    expect(new Set(tokens).size).toBe(tokens.length);
    tokens.forEach((token, i) => expect(Buffer.from(token, 'base64url')).toHaveLength(i % 2 === 0 ? 16 : 32));
    // Larger than the pool still works.
    expect(Buffer.from(randomToken(10_000), 'base64url')).toHaveLength(10_000);
  });

  it('are not all zero nor skewed: every byte value turns up', () => {
    const seen = new Set(Array.from({ length: 200 }, () => [...Buffer.from(randomToken(32), 'base64url')]).flat());
    expect(seen.size).toBe(256);
  });
});

describe('constantTimeEqual', () => {
  it('tells equal from different strings, whatever their lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('é', 'e')).toBe(false);
  });
});
