import type { Server } from 'node:http';
import type Koa from 'koa';

/** Listens and resolves with the server and the port it got (0 picks a free one). */
export function listen(app: Koa, host: string, port: number): Promise<{ server: Server; port: number; close: (graceMs?: number) => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    let closing = false;
    // Once closing, every answer tells the client to drop its keep-alive connection, so
    // requests in flight finish and no new one arrives on an old connection.
    server.prependListener('request', (_req, res) => {
      if (closing) res.setHeader('Connection', 'close');
    });
    // Bounded waits against slow clients holding connections open (slowloris).
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      resolve({
        server,
        port: typeof address === 'object' && address ? address.port : port,
        // Graceful: stop accepting, let requests in flight finish (idle keep-alive
        // connections close at once), and cut what is left after the grace period.
        close: (graceMs = 10_000) =>
          new Promise<void>((done) => {
            closing = true;
            const timer = setTimeout(() => server.closeAllConnections(), graceMs);
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}
