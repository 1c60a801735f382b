import type { Server } from 'node:http';
import type Koa from 'koa';

/** Listens and resolves with the server and the port it got (0 picks a free one). */
export function listen(app: Koa, host: string, port: number): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    // Bounded waits against slow clients holding connections open (slowloris).
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      resolve({
        server,
        port: typeof address === 'object' && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
