import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from '../startup/startup-error';

interface LockHolder {
  pid: number;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat field 22), Linux only. */
  startTime?: string;
}

/**
 * One process per data directory (PGlite is single-user). The lock file names the holder by PID
 * and start time: a PID that now belongs to another process (reused after a crash or a reboot),
 * a zombie, or a process that no longer exists does not hold the lock; a live holder does.
 * Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'bastion.lock');
  const me: LockHolder = { pid: process.pid, startTime: processInfo(process.pid)?.startTime };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return () => {
        // Only our own lock: never remove one another process took over.
        if (existsSync(file) && sameHolder(readHolder(file), me)) rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const raw = readFileSync(file, 'utf8');
      const holder = parseHolder(raw);
      if (holder && holder.pid !== process.pid && holderIsAlive(holder)) {
        throw new StartupError(
          `the data directory ${dataDir} is in use by process ${holder.pid}`,
          'DATA_DIR',
          'the embedded database allows one process per data directory: stop that process, use another DATA_DIR, or set DATABASE_URL to share PostgreSQL',
        );
      }
      // Left behind by a process that no longer runs: remove it unless it changed meanwhile.
      if (readFileSync(file, 'utf8') === raw) rmSync(file, { force: true });
    }
  }
  throw new StartupError(
    `could not lock the data directory ${dataDir}`,
    'DATA_DIR',
    'another process keeps taking the lock; stop it',
  );
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return parseHolder(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** `{"pid":…,"startTime":…}`, or a bare PID as written by earlier versions. */
function parseHolder(raw: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed === 'number' && Number.isInteger(parsed) && parsed > 0) return { pid: parsed };
    const h = parsed as Partial<LockHolder> | null;
    if (h && typeof h.pid === 'number' && Number.isInteger(h.pid) && h.pid > 0) {
      return { pid: h.pid, startTime: typeof h.startTime === 'string' ? h.startTime : undefined };
    }
  } catch {
    // damaged: nobody holds it
  }
  return undefined;
}

function sameHolder(a: LockHolder | undefined, b: LockHolder): boolean {
  return a !== undefined && a.pid === b.pid && a.startTime === b.startTime;
}

/** State and start time from /proc (Linux); undefined where /proc is missing or the PID is gone. */
export function processInfo(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTime: fields[19] };
  } catch {
    return undefined;
  }
}

export function holderIsAlive(holder: LockHolder): boolean {
  if (existsSync('/proc/self/stat')) {
    const info = processInfo(holder.pid);
    if (!info || info.state === 'Z' || info.state === 'X') return false; // gone, zombie or dead
    // Same PID, different start: the PID was reused by an unrelated process.
    return holder.startTime === undefined || holder.startTime === info.startTime;
  }
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
