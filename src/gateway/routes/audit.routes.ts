import type Router from '@koa/router';
import type { Context } from 'koa';
import { history, resolveUser, type HistoryEntry, type HistoryFilter } from '../../audit/history.js';
import { grantsAt } from '../../audit/point-in-time.js';
import { checkAuditKey } from '../../credentials/audit-keys.js';
import { InvalidRequest, InvalidToken } from '../../domain/oauth-errors.js';
import { queryParams } from '../../http/form.js';
import type { Gateway } from '../gateway-context.js';

const time = (value: string | undefined, name: string) => {
  if (!value || Number.isNaN(Date.parse(value))) throw new InvalidRequest(`${name} must be an ISO 8601 time`);
  return new Date(value).toISOString();
};

/**
 * The read-only audit API: the same history and point-in-time queries as oauth-audit,
 * read from the event store, for callers with an audit key (oauth-admin audit-key create).
 */
export function auditRoutes(router: Router, gateway: Gateway): void {
  const { store, secrets } = gateway.ports;
  const authorize = (ctx: Context) => {
    const key = /^Bearer (\S+)$/.exec(ctx.get('authorization'))?.[1];
    const auditor = key ? checkAuditKey(secrets, key) : undefined;
    if (!auditor) {
      ctx.set('WWW-Authenticate', 'Bearer realm="audit"');
      throw new InvalidToken('an audit key is required');
    }
    ctx.set('Cache-Control', 'no-store');
    gateway.logger.info('audit query', { auditor, path: ctx.path, requestId: ctx.state.requestId });
  };

  router.get('/audit/history', async (ctx) => {
    authorize(ctx);
    const q = queryParams(ctx);
    const chosen = [q.grant, q.user, q.client, q.from ?? q.to].filter((v) => v !== undefined).length;
    if (chosen !== 1) throw new InvalidRequest('give one of grant, user, client, or from with to');
    const filter: HistoryFilter = q.grant
      ? { grant: q.grant }
      : q.user
        ? { user: await resolveUser(store, q.user) }
        : q.client
          ? { client: q.client }
          : { from: time(q.from, 'from'), to: time(q.to, 'to') };
    const entries: HistoryEntry[] = [];
    for await (const entry of history(store, filter)) entries.push(entry);
    ctx.body = { events: entries };
  });

  router.get('/audit/grants-at', async (ctx) => {
    authorize(ctx);
    const q = queryParams(ctx);
    if (!q.user) throw new InvalidRequest('user is required');
    ctx.body = { grants: await grantsAt(store, await resolveUser(store, q.user), time(q.time, 'time')) };
  });
}
