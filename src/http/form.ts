import type { Context } from 'koa';
import { InvalidRequest } from '../domain/oauth-errors.js';

export const MAX_FORM_BYTES = 16 * 1024;

/**
 * Parameters of a request: each at most once (RFC 6749 section 3.1), as OAuth requires,
 * but for those an extension lets repeat (RFC 8707's `resource`): read them with valuesOf.
 */
export type Params = Record<string, string>;

/** The values of repeated parameters, beside the first one kept in the parameters themselves. */
const repeatedValues = new WeakMap<Params, Record<string, string[]>>();

/** Parameters that may appear more than once: `resource` (RFC 8707 section 2). */
export const REPEATABLE: ReadonlySet<string> = new Set(['resource']);
const NONE: ReadonlySet<string> = new Set();

/** Every value of a parameter, in order: none, one, or several where it may repeat. */
export function valuesOf(params: Params, name: string): string[] {
  return repeatedValues.get(params)?.[name] ?? (name in params ? [params[name]] : []);
}

function add(params: Params, name: string, value: string, repeatable: ReadonlySet<string>): void {
  if (!(name in params)) {
    params[name] = value;
    return;
  }
  if (!repeatable.has(name)) throw new InvalidRequest(`parameter ${name} must not be repeated`);
  let repeated = repeatedValues.get(params);
  if (!repeated) repeatedValues.set(params, (repeated = Object.create(null) as Record<string, string[]>));
  (repeated[name] ??= [params[name]]).push(value);
}

/** Turns URLSearchParams into single values, refusing any parameter that appears twice (unless it may). */
export function singleValued(search: URLSearchParams, repeatable: ReadonlySet<string> = NONE): Params {
  const params: Params = Object.create(null);
  for (const [name, value] of search) add(params, name, value, repeatable);
  return params;
}

/** The query string has the same encoding as a form body, without its leading '?'. */
export const queryParams = (ctx: Context): Params => parseForm(ctx.querystring);

/**
 * Reads an application/x-www-form-urlencoded body, bounded in size. Anything else is
 * refused: OAuth endpoints take forms only (RFC 6749 section 3.2).
 */
export async function formParams(ctx: Context, repeatable: ReadonlySet<string> = NONE): Promise<Params> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new InvalidRequest('the body must be application/x-www-form-urlencoded');
  }
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > MAX_FORM_BYTES) throw new PayloadTooLarge();
  return parseForm(await readBody(ctx.req), repeatable);
}

/**
 * application/x-www-form-urlencoded, as URLSearchParams parses it, without building one:
 * on the token, introspection and revocation endpoints that cost more than the rest of
 * reading the form. Anything unusual (a malformed %-escape) goes to URLSearchParams.
 */
export function parseForm(text: string, repeatable: ReadonlySet<string> = NONE): Params {
  const params: Params = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeFormPart(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeFormPart(pair.slice(eq + 1));
    if (name === undefined || value === undefined) return singleValued(bodyParams(text), repeatable);
    add(params, name, value, repeatable);
  }
  return params;
}

/** URLSearchParams drops a leading "?", as for a query string; a form body keeps it. */
const bodyParams = (text: string) => new URLSearchParams(text.startsWith('?') ? `?${text}` : text);

function decodeFormPart(part: string): string | undefined {
  const spaced = part.includes('+') ? part.replace(/\+/g, ' ') : part;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return undefined;
  }
}

/** Events rather than `for await`: the async iterator cost more than the rest of reading a small form. */
export function readBody(req: Context['req']): Promise<string> {
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
