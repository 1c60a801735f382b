import type { Lease } from '../checkpoints/lease.js';
import type { Logger } from '../observability/logger.js';
import type { AdminService } from './admin-service.js';

/**
 * The sweep of unused dynamically registered clients (`oauth-admin client sweep`), run by
 * the server itself every UNUSED_CLIENT_SWEEP_INTERVAL seconds. With several instances on
 * one data directory only the holder of its lease sweeps; were two to sweep at once, a
 * client's second deletion would be refused by the client decider, never recorded twice.
 */
export class UnusedClientSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly admin: Pick<AdminService, 'sweepUnusedClients'>,
    private readonly lease: Pick<Lease, 'tryAcquire'>,
    private readonly options: { unusedClientTtlSeconds: number; intervalMs: number },
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.options.intervalMs === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    try {
      if (!(await this.lease.tryAcquire())) return;
      const swept = await this.admin.sweepUnusedClients(new Date(Date.now() - this.options.unusedClientTtlSeconds * 1000));
      if (swept.length > 0) this.logger.info('deleted unused dynamically registered clients', { count: swept.length });
    } catch (error) {
      // The next sweep tries again: a client deleted meanwhile (by itself, or by oauth-admin) is simply not found.
      this.logger.error('the sweep of unused clients stopped', { error: (error as Error)?.name });
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
