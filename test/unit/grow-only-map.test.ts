import { emptyGrowOnlyMap, entriesOf, getIn, putIn, retainIn } from '../../src/domain/grow-only-map.js';

describe('grow-only map', () => {
  it('never changes what an older version sees, whichever version grows', () => {
    const empty = emptyGrowOnlyMap<number>();
    const one = putIn(empty, 'a', 1);
    const two = putIn(one, 'b', 2);
    expect([getIn(empty, 'a'), getIn(one, 'a'), getIn(one, 'b'), getIn(two, 'b')]).toEqual([undefined, 1, undefined, 2]);
    // A second history from `one`: it must not see 'b', and `two` must not see 'c'.
    const fork = putIn(one, 'c', 3);
    expect([...entriesOf(fork)]).toEqual([['a', 1], ['c', 3]]);
    expect([...entriesOf(two)]).toEqual([['a', 1], ['b', 2]]);
    expect(getIn(two, 'c')).toBeUndefined();
    // Replaying the same history from `one` again shares the log and sees the same.
    expect([...entriesOf(putIn(one, 'b', 2))]).toEqual([['a', 1], ['b', 2]]);
    // Two maps grown from empty are independent.
    expect(getIn(putIn(empty, 'z', 26), 'a')).toBeUndefined();
  });

  it('keeps the first value of a key', () => {
    const map = putIn(putIn(emptyGrowOnlyMap<number>(), 'a', 1), 'a', 2);
    expect([...entriesOf(map)]).toEqual([['a', 1]]);
  });

  it('grows by thousands in linear time, each version seeing only its own entries', () => {
    let map = emptyGrowOnlyMap<number>();
    const versions = [];
    for (let i = 0; i < 20_000; i++) {
      map = putIn(map, `k${i}`, i);
      if (i % 5_000 === 0) versions.push(map);
    }
    expect(getIn(map, 'k19999')).toBe(19_999);
    expect(versions.map((v) => [v.size, getIn(v, `k${v.size - 1}`), getIn(v, `k${v.size}`)])).toEqual([
      [1, 0, undefined], [5_001, 5_000, undefined], [10_001, 10_000, undefined], [15_001, 15_000, undefined],
    ]);
  });
});

describe('retaining some entries of a grow-only map', () => {
  it('gives a new map of the kept entries and leaves every version of the old one as it was', () => {
    let map = emptyGrowOnlyMap<number>();
    for (let i = 0; i < 10; i++) map = putIn(map, `k${i}`, i);
    const even = retainIn(map, (_key, value) => value % 2 === 0);
    expect([...entriesOf(even)]).toEqual([['k0', 0], ['k2', 2], ['k4', 4], ['k6', 6], ['k8', 8]]);
    expect(map.size).toBe(10);
    expect(getIn(map, 'k1')).toBe(1);
    // Growing the new map does not reach the old one's log, nor the other way round.
    const grown = putIn(even, 'k10', 10);
    expect(getIn(putIn(map, 'k11', 11), 'k10')).toBeUndefined();
    expect(getIn(grown, 'k11')).toBeUndefined();
    expect(getIn(grown, 'k1')).toBeUndefined();
  });
});
