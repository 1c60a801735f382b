import type { Lease } from '../checkpoints/lease.js';
import type { Logger } from '../observability/logger.js';
import type { Relay } from './relay.js';

/**
 * Several authorization server instances, one relay at work: each instance tries the
 * lease a few times per lease period; the holder runs the relay, the others wait, and
 * when the holder dies its lease runs out and another takes over from the shared
 * checkpoint and the newest event on the bus.
 *
 * The lease decides who should publish; the bus decides who can: a relay that starts takes
 * the bus over, and the relay before it is refused from then on, even one paused past its
 * lease that has not yet learned it lost it. Refused, the relay stops; this instance starts
 * it again only when the lease says it holds it (a bus that forgot its place after a restart
 * refuses a holder too: the next check takes the bus back).
 */
export class LeasedRelay {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    readonly relay: Relay,
    private readonly lease: Lease,
    private readonly logger: Logger,
  ) {
    relay.onFenced((fence) =>
      this.serially(async () => {
        if (!this.running) return;
        await this.relay.stop();
        this.running = false;
        this.logger.error('relay fenced: another instance took the event bus over; this one stopped publishing', { holder: this.lease.holder, reason: fence.message });
      }),
    );
  }

  get active(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), Math.max(50, Math.floor(this.lease.ttlMs / 3)));
    this.timer.unref();
  }

  /** One step at a time; a step that fails (the store away at a start) leaves the next ones to run. */
  private serially(step: () => Promise<void>): Promise<void> {
    this.busy = this.busy.then(step).catch((error: unknown) => {
      this.logger.error('relay: could not start or stop; trying again at the next lease check', { error: error instanceof Error ? error.message : String(error) });
    });
    return this.busy;
  }

  private check(): Promise<void> {
    return this.serially(async () => {
      let held: boolean;
      try {
        held = await this.lease.tryAcquire();
      } catch {
        held = false;
      }
      if (held && !this.running) {
        await this.relay.start();
        this.running = true;
        this.logger.info('relay lease acquired: this instance publishes to the event bus', { holder: this.lease.holder });
      } else if (!held && this.running) {
        await this.relay.stop();
        this.running = false;
        this.logger.info('relay lease lost: another instance publishes now', { holder: this.lease.holder });
      }
    });
  }

  async drain(): Promise<boolean> {
    return this.running ? this.relay.drain() : true;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
    if (this.running) await this.relay.stop();
    this.running = false;
    await this.lease.release();
  }
}
