import { constantTimeEqual, randomToken, sha256, uuidv7 } from '../../src/domain/crypto.js';

describe('sha256', () => {
  it('is SHA-256 as base64url: the hashes of client secrets, codes and refresh tokens already on record', () => {
    // FIPS 180-2's "abc" example, and a non-ASCII value hashed as UTF-8.
    expect(sha256('abc')).toBe(Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url'));
    expect(sha256('é')).toBe(Buffer.from('4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c', 'hex').toString('base64url'));
  });
});

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

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID that starts with its time in milliseconds', () => {
    const at = Date.UTC(2026, 10, 22, 5, 0, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts ids made in later milliseconds after earlier ones, and never repeats', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 10_000 }, () => uuidv7())).size).toBe(10_000);
  });
});
