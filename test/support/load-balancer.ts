import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';

export interface Forwarded {
  method: string;
  path: string;
  /** The backend that answered (its base URL). */
  backend: string;
  status: number;
}

export interface LoadBalancer {
  url: string;
  /** Every request it forwarded, in order, with who answered it. */
  readonly log: Forwarded[];
  /** Sends the following requests to this backend only (undefined: round-robin again). */
  pin(backend: string | undefined): void;
  close(): Promise<void>;
}

/**
 * A load balancer of the test's own, on loopback: several instances answer as one issuer,
 * each request going to the next backend in turn (or to a pinned one), so consecutive steps
 * of one flow land on different instances. A backend that refuses the connection (killed)
 * is skipped and the request goes to the next one: it never reached the dead one, so even a
 * POST is safe to send again. Bodies are buffered; answers are passed on as they are.
 */
export async function startLoadBalancer(port: number, backends: string[]): Promise<LoadBalancer> {
  const log: Forwarded[] = [];
  let turn = 0;
  let pinned: string | undefined;

  const forward = (backend: string, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const target = new URL(path, backend);
      const outgoing = request(target, { method, headers: { ...headers, host: target.host }, agent: false }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode!, headers: answer.headers, body: Buffer.concat(chunks) }));
        answer.on('error', reject);
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const order = pinned ? [pinned] : backends.map((_, i) => backends[(turn + i) % backends.length]);
    if (!pinned) turn = (turn + 1) % backends.length;
    for (const backend of order) {
      try {
        const answer = await forward(backend, req.method!, req.url!, req.headers, body);
        log.push({ method: req.method!, path: req.url!.split('?')[0], backend, status: answer.status });
        const { 'transfer-encoding': _chunked, connection: _connection, ...headers } = answer.headers;
        res.writeHead(answer.status, { ...headers, 'content-length': answer.body.length });
        res.end(answer.body);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') {
          res.writeHead(502).end(`load balancer: ${backend} failed: ${(error as Error).message}`);
          return;
        }
      }
    }
    res.writeHead(502).end('load balancer: no backend is up');
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    pin(backend) {
      pinned = backend;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
