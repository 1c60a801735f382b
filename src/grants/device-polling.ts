/** Devices remembered at most: one entry each, some 100 bytes, so a few megabytes at worst. */
const MAX_DEVICES = 10_000;

export interface LastPoll {
  at: Date;
  intervalSeconds: number;
}

/**
 * When each device last polled this instance, and the interval it must keep (RFC 8628
 * section 3.5: longer by five seconds at each slow_down): what tells slow_down from
 * authorization_pending. Kept in memory, per instance, not as events: a device polls every
 * five seconds for up to ten minutes, and recording each poll would put a hundred events
 * on its grant for nothing an auditor needs. Bounded: past MAX_DEVICES the device that
 * polled least recently is forgotten (it polls as if for the first time, with the interval
 * it was given). Behind a load balancer, a device whose polls reach several instances is
 * paced by each alone, so it can poll up to that many times as often before it hears
 * slow_down; what it can get that way is authorization_pending, sooner.
 */
export class DevicePolling {
  private readonly polls = new Map<string, LastPoll>();

  lastPoll(grantId: string): LastPoll | undefined {
    return this.polls.get(grantId);
  }

  record(grantId: string, poll: LastPoll): void {
    // Deleted first so that insertion order is the order of the last polls: the first key is the stalest.
    this.polls.delete(grantId);
    this.polls.set(grantId, poll);
    if (this.polls.size > MAX_DEVICES) this.polls.delete(this.polls.keys().next().value!);
  }

  /** The device has its answer (tokens, or a final refusal): nothing to pace any more. */
  forget(grantId: string): void {
    this.polls.delete(grantId);
  }
}
