/**
 * Who may act alone among the instances (the relay, the logout sender, the sweeper): the
 * holder renews before the lease runs out; when it dies the lease runs out and another takes it.
 */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly ttlMs: number;
  /** Takes or renews the lease; true while this holder has it. False, not an error, when the store is away. */
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
}
