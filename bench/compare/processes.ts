import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The processes a side-by-side run starts and watches: a free port, a started child, its peak memory. */

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

export async function startProcess(script: string, args: string[], env: Record<string, string>, readyUrl?: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  // Keep reading its output: a full pipe would stall the server being measured.
  child.stdout!.on('data', () => {});
  if (readyUrl) {
    for (let i = 0; ; i++) {
      if ((await fetch(readyUrl).then((r) => r.status, () => 0)) === 200) return child;
      if (i > 400 || child.exitCode !== null) throw new Error(`${script} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', () => reject(new Error(`${script} exited`)));
  });
  return child;
}

/** Peak resident memory of a process, from the kernel's high-water mark. */
export const peakRssMb = (child: ChildProcess) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;

/** Starts the high-water mark again from the current resident set (Linux: clear_refs 5); false where that is refused. */
export function resetPeakRss(child: ChildProcess): boolean {
  try {
    writeFileSync(`/proc/${child.pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
