import type { SqliteLease } from '../checkpoints/sqlite-lease.js';
import type { Logger } from '../observability/logger.js';
import type { Relay } from './relay.js';

/**
 * Several authorization server instances, one relay at work: each instance tries the
 * lease a few times per lease period; the holder runs the relay, the others wait, and
 * when the holder dies its lease runs out and another takes over from the shared
 * checkpoint. (Should two ever overlap, JetStream drops the duplicate message ids.)
 */
export class LeasedRelay {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    readonly relay: Relay,
    private readonly lease: SqliteLease,
    private readonly logger: Logger,
  ) {}

  get active(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), Math.max(50, Math.floor(this.lease.ttlMs / 3)));
    this.timer.unref();
  }

  private check(): Promise<void> {
    this.busy = this.busy.then(async () => {
      let held: boolean;
      try {
        held = this.lease.tryAcquire();
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
    return this.busy;
  }

  async drain(): Promise<boolean> {
    return this.running ? this.relay.drain() : true;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
    if (this.running) await this.relay.stop();
    this.running = false;
    this.lease.release();
  }
}
