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
  close(): void;
}

export class MemoryProjectionStore implements ProjectionStore {
  private readonly documents = new Map<string, Map<string, unknown>>();
  private readonly checkpoints = new Map<string, number>();

  get<V>(projection: string, key: string): V | undefined {
    return this.documents.get(projection)?.get(key) as V | undefined;
  }

  checkpoint(projection: string): number {
    return this.checkpoints.get(projection) ?? 0;
  }

  apply(projection: string, changes: ReadonlyMap<string, unknown>, position: number): void {
    let documents = this.documents.get(projection);
    if (!documents) this.documents.set(projection, (documents = new Map()));
    for (const [key, value] of changes) {
      if (value === undefined) documents.delete(key);
      else documents.set(key, value);
    }
    this.checkpoints.set(projection, position);
  }

  entries(projection: string): Array<[string, unknown]> {
    return [...(this.documents.get(projection) ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  close(): void {}
}
