// Dev tooling: a private nats-server for tests and benchmarks, never used by the servers themselves.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface NatsServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Start again on the same port and storage directory, as after an outage. */
  start(): Promise<void>;
  /** Stop and remove the storage directory. */
  dispose(): Promise<void>;
}

function readPorts(file: string): { nats: string[] } | undefined {
  try {
    const ports = JSON.parse(readFileSync(file, 'utf8')) as { nats?: string[] };
    return ports.nats?.length ? (ports as { nats: string[] }) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A real `nats-server -js` on a free loopback port, private to the test that starts it.
 * Debian's package `nats-server` provides it (see .ci/run).
 */
export async function startNatsServer(): Promise<NatsServer> {
  const dir = tempDir('nats-');
  let child: ChildProcess | undefined;
  let port = -1;

  const launch = async () => {
    const proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir.path, '--ports_file_dir', dir.path], {
      stdio: 'ignore',
    });
    child = proc;
    const failed = new Promise<never>((_, reject) => proc.once('error', reject));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const file = readdirSync(dir.path).find((f) => f.endsWith('.ports') && f.includes(String(proc.pid)));
      // The server may be writing it still: a partial file is read again at the next turn.
      const ports = file ? readPorts(join(dir.path, file)) : undefined;
      if (ports) {
        port = Number(new URL(ports.nats[0]).port);
        return;
      }
      if (Date.now() > deadline) throw new Error('nats-server did not start');
      await Promise.race([new Promise((r) => setTimeout(r, 20)), failed]);
    }
  };
  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    child = undefined;
  };

  try {
    await launch();
  } catch (error) {
    // A server left running would keep the test runner from ever exiting.
    await stop().catch(() => undefined);
    dir.remove();
    throw error;
  }
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    stop,
    start: launch,
    async dispose() {
      await stop();
      if (existsSync(dir.path)) dir.remove();
    },
  };
}
