import type Router from '@koa/router';

export type ReadinessCheck = () => Promise<true | string>;

/**
 * The longest a readiness check may take: a store that does not answer (a server that
 * stopped, a network that drops packets) makes the instance not ready, not /readyz hang
 * past the probe's own timeout.
 */
export const READINESS_CHECK_TIMEOUT_MS = 2000;

/** A check's answer, or what went wrong: its error's message, or that it took too long. */
async function outcome(check: ReadinessCheck, timeoutMs: number): Promise<true | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([check(), late]);
  } catch (error) {
    return (error as Error)?.message ?? 'failed';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz`: the process answers. `/readyz`: every check passes (the store takes
 * writes, NATS is connected, projections have caught up); 503 with what failed otherwise.
 */
export function healthRoutes(router: Router, checks: Record<string, ReadinessCheck>, timeoutMs = READINESS_CHECK_TIMEOUT_MS): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const results: Record<string, true | string> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        results[name] = await outcome(check, timeoutMs);
      }),
    );
    const ready = Object.values(results).every((r) => r === true);
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks: results };
  });
}
