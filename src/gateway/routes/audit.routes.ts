import type Router from '@koa/router';
import type { Context } from 'koa';
import { auditTime, BadHistoryQuery, history, historyFilter, resolveUser, wholeNumberIn, type HistoryEntry } from '../../audit/history.js';
import { grantsAt } from '../../audit/point-in-time.js';
import { checkAuditKey } from '../../credentials/audit-keys.js';
import { InvalidRequest, InvalidToken } from '../../domain/oauth-errors.js';
import { queryParams } from '../../http/form.js';
import type { Gateway } from '../gateway-context.js';

const MAX_ENTRIES = 10_000;

/** A bad query is the caller's error: invalid_request, not a server error. */
async function asRequest<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof BadHistoryQuery) throw new InvalidRequest(error.message);
    throw error;
  }
}

/**
 * The read-only audit API: the same history and point-in-time queries as oauth-audit,
 * read from the event store, for callers with an audit key (oauth-admin audit-key create).
 */
export function auditRoutes(router: Router, gateway: Gateway): void {
  const { store, secrets } = gateway.ports;
  const authorize = async (ctx: Context) => {
    const key = /^Bearer (\S+)$/.exec(ctx.get('authorization'))?.[1];
    const auditor = key ? await checkAuditKey(secrets, key) : undefined;
    if (!auditor) {
      ctx.set('WWW-Authenticate', 'Bearer realm="audit"');
      throw new InvalidToken('an audit key is required');
    }
    gateway.logger.info('audit query', { auditor, path: ctx.path, requestId: ctx.state.requestId });
  };

  router.get('/audit/history', async (ctx) => {
    await authorize(ctx);
    const query = queryParams(ctx);
    // Bounded answers: an auditor pages with from/to, or uses oauth-audit for the whole log.
    const limit = await asRequest(async () => wholeNumberIn(query.limit, 'limit', 1, MAX_ENTRIES, 1000));
    const filter = await asRequest(() => historyFilter(store, query));
    const entries: HistoryEntry[] = [];
    let truncated = false;
    for await (const entry of history(store, filter)) {
      if (entries.length === limit) {
        truncated = true;
        break;
      }
      entries.push(entry);
    }
    ctx.body = { events: entries, truncated };
  });

  router.get('/audit/grants-at', async (ctx) => {
    await authorize(ctx);
    const q = queryParams(ctx);
    if (!q.user) throw new InvalidRequest('user is required');
    const at = await asRequest(async () => auditTime(q.time, 'time'));
    ctx.body = { grants: await grantsAt(store, await resolveUser(store, q.user), at) };
  });
}
