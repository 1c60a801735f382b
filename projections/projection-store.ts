/**
 * Where projections keep their documents and their checkpoint. `apply` writes the
 * changes of a batch and the global position they bring the projection to as one
 * atomic step, so a crash can never leave a document ahead of or behind its checkpoint.
 * Reads are synchronous: they sit on the resource server's hot path.
 */
export interface ProjectionStore {
  get<V>(projection: string, key: string): V | undefined;
  checkpoint(projection: string): number;
  apply(projection: string, changes: ReadonlyMap<string, unknown>, position: number): void;
  entries(projection: string): Array<[string, unknown]>;
  /** The documents whose key is `<group>/<anything>`: one user's grants, say, without a scan of all. */
  entriesIn(projection: string, group: string): Array<[string, unknown]>;
  /** The version of the fold the documents were made by; undefined when nothing is recorded. */
  foldVersion(projection: string): number | undefined;
  /** Drops a projection's documents and checkpoint, and records the version of the fold that will make them again. */
  reset(projection: string, version: number): void;
  close(): void;
}

/** The group of a key `<group>/<rest>`, or undefined for keys without one. */
export const groupOf = (key: string): string | undefined => {
  const slash = key.indexOf('/');
  return slash === -1 ? undefined : key.slice(0, slash);
};

export class MemoryProjectionStore implements ProjectionStore {
  private readonly documents = new Map<string, Map<string, unknown>>();
  private readonly checkpoints = new Map<string, number>();
  private readonly groups = new Map<string, Map<string, Set<string>>>();
  private readonly versions = new Map<string, number>();

  get<V>(projection: string, key: string): V | undefined {
    return this.documents.get(projection)?.get(key) as V | undefined;
  }

  checkpoint(projection: string): number {
    return this.checkpoints.get(projection) ?? 0;
  }

  apply(projection: string, changes: ReadonlyMap<string, unknown>, position: number): void {
    let documents = this.documents.get(projection);
    if (!documents) this.documents.set(projection, (documents = new Map()));
    let groups = this.groups.get(projection);
    if (!groups) this.groups.set(projection, (groups = new Map()));
    for (const [key, value] of changes) {
      const group = groupOf(key);
      let members = group === undefined ? undefined : groups.get(group);
      if (group !== undefined && !members) groups.set(group, (members = new Set()));
      if (value === undefined) {
        documents.delete(key);
        members?.delete(key);
      } else {
        documents.set(key, value);
        members?.add(key);
      }
    }
    this.checkpoints.set(projection, position);
  }

  entriesIn(projection: string, group: string): Array<[string, unknown]> {
    const documents = this.documents.get(projection);
    const members = this.groups.get(projection)?.get(group);
    if (!documents || !members) return [];
    return [...members].sort().map((key) => [key, documents.get(key)]);
  }

  entries(projection: string): Array<[string, unknown]> {
    return [...(this.documents.get(projection) ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  foldVersion(projection: string): number | undefined {
    return this.versions.get(projection);
  }

  reset(projection: string, version: number): void {
    this.documents.delete(projection);
    this.groups.delete(projection);
    this.checkpoints.delete(projection);
    this.versions.set(projection, version);
  }

  close(): void {}
}
