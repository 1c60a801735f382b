/** Where a reader of the global log (the relay) remembers how far it got. */
export interface CheckpointStore {
  get(name: string): Promise<number>;
  set(name: string, position: number): Promise<void>;
  close(): Promise<void>;
}

export class MemoryCheckpointStore implements CheckpointStore {
  private readonly positions = new Map<string, number>();
  async get(name: string): Promise<number> {
    return this.positions.get(name) ?? 0;
  }
  async set(name: string, position: number): Promise<void> {
    this.positions.set(name, position);
  }
  async close(): Promise<void> {}
}
