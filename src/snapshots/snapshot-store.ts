/**
 * A stream's folded state at one revision, so reading the state of a long stream starts
 * there instead of at its first event. Derived from the store and never the record: any
 * snapshot may be lost or ignored, and the state is the same, only slower to read.
 */
export interface Snapshot {
  stream: string;
  /** What the state is and how it is encoded (decider and version): another kind is ignored. */
  kind: string;
  revision: number;
  /** The id of the event at that revision: a store whose stream differs there gets no use of it. */
  eventId: string;
  state: unknown;
}

export interface SnapshotStore {
  get(stream: string): Promise<Snapshot | undefined>;
  put(snapshot: Snapshot): Promise<void>;
  close(): Promise<void>;
}
