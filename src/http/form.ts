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
  return singleValued(new URLSearchParams(await readBody(ctx.req)));
}

/** Events rather than `for await`: the async iterator cost more than the rest of reading a small form. */
function readBody(req: Context['req']): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FORM_BYTES) return void chunks.push(chunk);
      // Stop keeping it but let it flow, so the client still gets its 413.
      req.off('data', onData);
      req.resume();
      reject(new PayloadTooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

export class PayloadTooLarge extends InvalidRequest {
  override readonly status = 413;
  constructor() {
    super(`the body is larger than ${MAX_FORM_BYTES} bytes`);
  }
}
