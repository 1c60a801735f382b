import type { Context } from 'koa';
import { InvalidRequest } from '../domain/oauth-errors.js';
import { MAX_FORM_BYTES, PayloadTooLarge, readBody } from './form.js';

/**
 * Reads an application/json body (the registration endpoint, RFC 7591 section 3.1),
 * bounded as forms are: anything else, or JSON that does not parse, is invalid_request.
 */
export async function jsonBody(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw new InvalidRequest('the body must be application/json');
  if (Number(ctx.get('content-length') || 0) > MAX_FORM_BYTES) throw new PayloadTooLarge();
  const text = await readBody(ctx.req);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidRequest('the body is not valid JSON');
  }
}
