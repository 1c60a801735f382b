/**
 * An immutable map that only grows, for the grant's tokens and spent refresh token
 * hashes. Successive versions of a state share one log of entries and each sees its first
 * `size`; adding to the newest version appends to the log in place, so a grant's
 * thousandth refresh costs what its first did, and a lookup is one Map access. Adding
 * to an older version (a history that went another way, which committed events never
 * do) copies what it sees first. No version ever sees its entries change.
 */
interface Log<V> {
  keys: string[];
  values: V[];
  index: Map<string, number>;
}

export interface GrowOnlyMap<V> {
  readonly log: Log<V> | null;
  readonly size: number;
}

const EMPTY: GrowOnlyMap<never> = { log: null, size: 0 };
export const emptyGrowOnlyMap = <V>(): GrowOnlyMap<V> => EMPTY;

export function getIn<V>(map: GrowOnlyMap<V>, key: string): V | undefined {
  const at = map.log?.index.get(key);
  return at !== undefined && at < map.size ? map.log!.values[at] : undefined;
}

export function putIn<V>(map: GrowOnlyMap<V>, key: string, value: V): GrowOnlyMap<V> {
  if (getIn(map, key) !== undefined) return map;
  let log = map.log;
  if (log && log.keys.length > map.size) {
    // The log already went on from here: the same entry next means the same history.
    if (log.keys[map.size] === key && log.values[map.size] === value) return { log, size: map.size + 1 };
    log = copyOf(log, map.size);
  }
  log ??= { keys: [], values: [], index: new Map() };
  log.index.set(key, log.keys.length);
  log.keys.push(key);
  log.values.push(value);
  return { log, size: map.size + 1 };
}

export function* entriesOf<V>(map: GrowOnlyMap<V>): Generator<[string, V]> {
  for (let i = 0; i < map.size; i++) yield [map.log!.keys[i], map.log!.values[i]];
}

function copyOf<V>(log: Log<V>, size: number): Log<V> {
  const keys = log.keys.slice(0, size);
  return { keys, values: log.values.slice(0, size), index: new Map(keys.map((key, i) => [key, i])) };
}

/** A map of these entries, in their order, with a log of its own. */
export function growOnlyMapOf<V>(entries: Iterable<[string, V]>): GrowOnlyMap<V> {
  let map = emptyGrowOnlyMap<V>();
  for (const [key, value] of entries) map = putIn(map, key, value);
  return map;
}

/**
 * A new map of the entries `keep` accepts: how entries no longer needed leave (a version
 * never loses an entry; its successor may start afresh).
 */
export function retainIn<V>(map: GrowOnlyMap<V>, keep: (key: string, value: V) => boolean): GrowOnlyMap<V> {
  return growOnlyMapOf([...entriesOf(map)].filter(([key, value]) => keep(key, value)));
}
