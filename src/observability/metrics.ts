import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read of a projection runner. */
interface ProjectionsReport {
  readonly projections: ReadonlyArray<{ name: string }>;
  lagByProjection(): Promise<Array<[string, number]>>;
  stalled(): ReadonlyArray<{ projection: string }>;
}

/**
 * The process's Prometheus metrics, served on the admin port. Counts of tokens, revocations
 * and login failures come from the events this instance appends, so they mean exactly what
 * the record says.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by server, route, method and status',
    labelNames: ['server', 'route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly tokensIssued = new Counter({ name: 'oauth_tokens_issued_total', help: 'Access tokens issued, by grant type', labelNames: ['grant_type'] as const, registers: [this.registry] });
  readonly tokensRevoked = new Counter({ name: 'oauth_tokens_revoked_total', help: 'Revocations: one access token, or a whole grant', labelNames: ['kind', 'reason'] as const, registers: [this.registry] });
  readonly loginFailures = new Counter({ name: 'oauth_login_failures_total', help: 'Failed sign-ins, by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly appendSeconds = new Histogram({
    name: 'event_store_append_seconds',
    help: 'Time to append to the event store',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly concurrencyConflicts = new Counter({ name: 'event_store_concurrency_conflicts_total', help: 'Appends refused because another writer changed the stream first', registers: [this.registry] });

  private readonly projectionSources: Array<{ server: string; runner: ProjectionsReport }> = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.gauge('projection_lag_events', 'Events a projection has yet to apply, by server and projection', ['server', 'projection'], async () => {
      const rows: Array<[Record<string, string>, number]> = [];
      for (const { server, runner } of this.projectionSources) for (const [projection, lag] of await runner.lagByProjection()) rows.push([{ server, projection }, lag]);
      return rows;
    });
    this.gauge('projection_stalled', '1 while a projection cannot apply an event (retrying it; later events wait), by server and projection', ['server', 'projection'], async () =>
      this.projectionSources.flatMap(({ server, runner }) => {
        const stalled = new Set(runner.stalled().map((stall) => stall.projection));
        return runner.projections.map((p): [Record<string, string>, number] => [{ server, projection: p.name }, stalled.has(p.name) ? 1 : 0]);
      }),
    );
  }

  /** Reports a server's projections under projection_lag_events and projection_stalled; the servers of one process share the gauges. */
  addProjections(server: string, runner: ProjectionsReport): void {
    this.projectionSources.push({ server, runner });
  }

  /** A gauge whose value is read when Prometheus scrapes. */
  gauge(name: string, help: string, labelNames: string[], read: () => Promise<Array<[Record<string, string>, number]>>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [labels, value] of await read()) this.set(labels, value);
      },
    });
  }
}
