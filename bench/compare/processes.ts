import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The processes a side-by-side run starts and watches: a free port, a started child, its peak memory, its CPU time. */

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
      if (i > 400 || child.exitCode !== null) {
        // One that is still starting is not left behind.
        child.kill('SIGKILL');
        throw new Error(`${script} did not start`);
      }
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

/** The fields of a /proc stat file after the parenthesised command name (which may hold spaces), from field 3 on. */
const statFields = (file: string) => {
  const text = readFileSync(file, 'utf8');
  return text.slice(text.lastIndexOf(') ') + 2).split(' ');
};

/**
 * CPU seconds (user + system) a /proc stat file counts: a process in all its threads
 * (`/proc/<pid>/stat`) or one thread (`/proc/<pid>/task/<tid>/stat`). With `reaped`, also
 * what its children used before it waited for them: a PostgreSQL backend that ended is counted.
 */
export function statCpuSeconds(file: string, reaped = false): number {
  // Fields 14 and 15 (16 and 17 for the reaped children), in clock ticks: 100 a second on Linux.
  const fields = statFields(file);
  const ticks = Number(fields[11]) + Number(fields[12]) + (reaped ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks / 100;
}

/** The ids of every process whose parent is `parent`, at this moment. */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (Number(statFields(`/proc/${name}/stat`)[1]) === parent) children.push(Number(name));
    } catch {
      // It ended between the listing and the read.
    }
  }
  return children;
}

/**
 * CPU seconds of a process and all it has started, living or ended: for a server that
 * forks a process per connection (PostgreSQL's postmaster and its backends), where
 * the backends come and go.
 */
export function treeCpuSeconds(pid: number): number {
  let seconds = statCpuSeconds(`/proc/${pid}/stat`, true);
  for (const child of childrenOf(pid)) {
    try {
      seconds += treeCpuSeconds(child);
    } catch {
      // It ended and was reaped after the listing: its time is now in the parent's reaped time.
    }
  }
  return seconds;
}

/** The children of `parent` that run `command` (a path or a name), at this moment. */
export function childrenRunning(parent: number, command: string): number[] {
  return childrenOf(parent).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0].endsWith(command);
    } catch {
      return false;
    }
  });
}
