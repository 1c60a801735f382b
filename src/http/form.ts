import type { Context } from 'koa';
import { InvalidRequest } from '../domain/oauth-errors.js';

export const MAX_FORM_BYTES = 16 * 1024;

/** Parameters of a request: each at most once (RFC 6749 section 3.1), as OAuth requires. */
export type Params = Record<string, string>;

/** Turns URLSearchParams into single values, refusing any parameter that appears twice. */
export function singleValued(search: URLSearchParams): Params {
  const params: Params = Object.create(null);
  for (const [name, value] of search) {
    if (name in params) throw new InvalidRequest(`parameter ${name} must not be repeated`);
    params[name] = value;
  }
  return params;
}

export const queryParams = (ctx: Context): Params => singleValued(new URLSearchParams(ctx.querystring));

/**
 * Reads an application/x-www-form-urlencoded body, bounded in size. Anything else is
 * refused: OAuth endpoints take forms only (RFC 6749 section 3.2).
 */
export async function formParams(ctx: Context): Promise<Params> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new InvalidRequest('the body must be application/x-www-form-urlencoded');
  }
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > MAX_FORM_BYTES) throw new PayloadTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new PayloadTooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return singleValued(new URLSearchParams(text));
}

export class PayloadTooLarge extends InvalidRequest {
  override readonly status = 413;
  constructor() {
    super(`the body is larger than ${MAX_FORM_BYTES} bytes`);
  }
}
