import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { APPENDED_CHANNEL } from './postgres-schema.js';

/**
 * LISTENs on the channel every append notifies (in any process), and emits 'append' for
 * follow-log.ts, which reads at once instead of waiting for its next poll. A lost connection
 * is opened again after `retryMs`; meanwhile followers still poll, so nothing is missed,
 * only later. One connection per store, opened by its first follower.
 */
export class AppendListener {
  readonly appended = new EventEmitter().setMaxListeners(0);
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Said once when the connection goes and once when it is back, not at every try in between. */
  private away = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly retryMs: number,
    private readonly log?: Pick<Logger, 'error' | 'info'>,
  ) {}

  start(): void {
    if (this.client || this.retry || this.closed) return;
    const client = new pg.Client(this.config);
    this.client = client;
    const lost = (error: unknown) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      if (this.closed) return;
      if (!this.away) this.log?.error('lost the PostgreSQL connection that hears of appends; polling until it is back', { error: String(error) });
      this.away = true;
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.start();
      }, this.retryMs);
    };
    client.on('error', lost);
    client.on('end', () => lost('connection ended'));
    client.on('notification', () => this.appended.emit('append'));
    client
      .connect()
      .then(() => client.query(`LISTEN ${APPENDED_CHANNEL}`))
      // Appends made while it was away are found by the read that follows the wake-up.
      .then(() => {
        if (this.away) this.log?.info('listening for appends on PostgreSQL again');
        this.away = false;
        this.appended.emit('append');
      })
      .catch(lost);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
