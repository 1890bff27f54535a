import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  /** The process id (perf and /proc read it). */
  readonly pid: number | undefined;
  /** Resident set size of the process now, in MB (Linux /proc); undefined once it exited or elsewhere. */
  rssMb(): number | undefined;
  /** CPU time (user + system) the process has used so far, in ms (Linux /proc); undefined once it exited or elsewhere. */
  cpuMs(): number | undefined;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** A TCP port that was free a moment ago (the servers are told which port to use, so no log parsing is needed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Spawns a server and waits until `readyPath` answers 200. Rejects, after killing it, if the process
 * exits first or is not ready within `timeoutMs`; the message carries the end of its output.
 */
export async function startServer(options: {
  name: string;
  cwd: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  readyPath: string;
  timeoutMs?: number;
  /** Called right after the spawn, before readiness, so a caller's cleanup can stop it at any point. */
  onSpawn?: (server: ServerProcess) => void;
}): Promise<ServerProcess> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let stopped: Promise<void> | undefined;
  const stop = (graceMs = 15_000): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = exited(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await done;
      clearTimeout(timer);
    })();
    return stopped;
  };

  const url = `http://127.0.0.1:${options.port}`;
  const rssMb = (): number | undefined => {
    if (child.pid === undefined || child.exitCode !== null) return undefined;
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      return kb === undefined ? undefined : Number(kb) / 1024;
    } catch {
      return undefined;
    }
  };
  const cpuMs = (): number | undefined => {
    if (child.pid === undefined || child.exitCode !== null) return undefined;
    try {
      // Fields 14 and 15 of /proc/<pid>/stat (utime, stime) in clock ticks, 100 a second on Linux;
      // the command name (field 2) may hold spaces, so count from its closing parenthesis.
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return undefined;
    }
  };
  const handle: ServerProcess = { name: options.name, url, pid: child.pid, stop, rssMb, cpuMs };
  options.onSpawn?.(handle);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`);
    }
    const status = await fetch(`${url}${options.readyPath}`)
      .then(async (res) => (await res.arrayBuffer(), res.status))
      .catch(() => 0);
    if (status === 200) break;
    if (Date.now() > deadline) {
      await stop(1000);
      throw new Error(`${options.name} was not ready within ${options.timeoutMs ?? 60_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Once ready, the output is only kept for error messages; a server that dies mid-run shows up as errors.
  return handle;
}
