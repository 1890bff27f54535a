/**
 * On-CPU profiles of a server process with Linux `perf` (Debian's `linux-perf`), beside the V8
 * `.cpuprofile` of `node --cpu-prof`.
 *
 * Why both: V8's profiler samples on a wall-clock timer, so time the thread spends blocked or
 * descheduled inside a system call is charged to that call. On a 2-core machine shared with
 * PostgreSQL, `writev` then looked like a quarter of a `GET /me` (+262 µs per request against
 * `/health/live`), while `perf` counting CPU time only puts the whole kernel at about a tenth.
 * `perf` also sees what V8's profiler folds into "(program)" or "(garbage collector)": inline-cache
 * misses and map transitions in the V8 runtime, builtins, the GC's helper threads.
 *
 * Needs `perf` on the PATH and `kernel.perf_event_paranoid` at 1 or below (or root), and the
 * server started with `--perf-basic-prof` so JIT-compiled functions have names.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

/** Samples per second and per thread (`perf record -F`). */
const FREQUENCY = 999;

/** Where a sample's time went, by where its instruction pointer was. */
export type PerfCategory =
  | 'JIT-compiled JavaScript'
  | 'V8 runtime: inline caches, property lookups, maps'
  | 'V8 builtins'
  | 'V8 compilers (Sparkplug, Maglev, TurboFan)'
  | 'garbage collection'
  | 'other native code (node, libuv, OpenSSL, llhttp)'
  | 'kernel'
  | 'C library'
  | 'other';

export interface PerfSummary {
  samples: number;
  /** CPU time per request in µs, by category, largest first. */
  categories: { category: PerfCategory; usPerRequest: number }[];
  /** The symbols with the most self time, µs per request. */
  symbols: { symbol: string; category: PerfCategory; usPerRequest: number }[];
}

/** Throws with what to install or set when `perf` cannot profile here. */
export function assertPerfUsable(): void {
  const version = spawnSync('perf', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    throw new Error('BENCH_PROFILE_TOOL=perf needs perf on the PATH: apt-get install linux-perf');
  }
  const probe = spawnSync('perf', ['stat', '-e', 'cpu-clock', '--', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `perf may not profile here (${probe.stderr.trim().split('\n')[0]}): run as root or sysctl kernel.perf_event_paranoid=1`,
    );
  }
}

/** Starts sampling every thread of `pid` into `file`; stop it with {@link stopPerf}. */
export function startPerf(pid: number, file: string): ChildProcess {
  return spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(FREQUENCY), '-p', String(pid), '-o', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Ends a recording (SIGINT, as Ctrl-C would) and waits until perf has written its file. */
export async function stopPerf(recording: ChildProcess): Promise<void> {
  if (recording.exitCode !== null || recording.signalCode !== null) return;
  const done = new Promise<void>((resolve) => recording.once('exit', () => resolve()));
  recording.kill('SIGINT');
  await done;
}

const GC = /Scaveng|Marking|Sweep|Heap|GC|Concurrent|Evacuat|Remembered|Slot|Minor|Major|Incremental|Compactor/;
const RUNTIME =
  /IC|Lookup|Map|Descriptor|Transition|Runtime_|Feedback|Property|Dictionary|StringTable|Prototype|StubCache/;
const COMPILER = /compiler::|maglev::|baseline::|Compile|Deoptimiz/;

function categorise(dso: string, symbol: string): PerfCategory {
  if (dso.startsWith('[kernel')) return 'kernel';
  if (dso.startsWith('[JIT]') || dso.startsWith('perf-')) return 'JIT-compiled JavaScript';
  if (dso === 'node') {
    if (GC.test(symbol)) return 'garbage collection';
    if (symbol.startsWith('Builtins_')) return 'V8 builtins';
    if (COMPILER.test(symbol)) return 'V8 compilers (Sparkplug, Maglev, TurboFan)';
    if (RUNTIME.test(symbol)) return 'V8 runtime: inline caches, property lookups, maps';
    return 'other native code (node, libuv, OpenSSL, llhttp)';
  }
  if (dso.startsWith('libc') || dso.startsWith('libm')) return 'C library';
  return 'other';
}

/** Reads a `perf record` file: CPU per request by category and the top `top` symbols. */
export function summarisePerf(file: string, requests: number, top = 15): PerfSummary {
  const report = spawnSync(
    'perf',
    ['report', '-i', file, '--stdio', '--no-children', '--sort', 'dso,sym', '-g', 'none', '-n', '--percent-limit', '0'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (report.status !== 0) throw new Error(`perf report failed: ${report.stderr}`);
  // "  12.34%   567  node   [.] v8::internal::Foo"  (percent, samples, dso, [.] or [k], symbol)
  const line = /^\s*[\d.]+%\s+(\d+)\s+(\[JIT\] tid \d+|\S+)\s+\[[.k]\]\s+(.*)$/;
  const usPerSample = 1e6 / FREQUENCY;
  const perCategory = new Map<PerfCategory, number>();
  const symbols: PerfSummary['symbols'] = [];
  let samples = 0;
  for (const text of report.stdout.split('\n')) {
    const m = line.exec(text);
    if (!m) continue;
    const count = Number(m[1]);
    const category = categorise(m[2], m[3]);
    samples += count;
    perCategory.set(category, (perCategory.get(category) ?? 0) + count);
    symbols.push({ symbol: m[3].trim(), category, usPerRequest: (count * usPerSample) / requests });
  }
  return {
    samples,
    categories: [...perCategory]
      .map(([category, count]) => ({ category, usPerRequest: (count * usPerSample) / requests }))
      .sort((a, b) => b.usPerRequest - a.usPerRequest),
    symbols: symbols.sort((a, b) => b.usPerRequest - a.usPerRequest).slice(0, top),
  };
}

export function formatPerfSummary(summary: PerfSummary, requests: number): string {
  const total = summary.categories.reduce((sum, c) => sum + c.usPerRequest, 0);
  const lines = [
    `perf: ${summary.samples} on-CPU samples (every thread, ${FREQUENCY} Hz), ${total.toFixed(0)} µs of CPU per request (${requests} requests)`,
    'CPU per request, by where it ran:',
    ...summary.categories.map(
      (c) =>
        `  ${c.usPerRequest.toFixed(0).padStart(6)} µs  ${((c.usPerRequest / total) * 100).toFixed(1).padStart(5)}%  ${c.category}`,
    ),
    'top symbols by self time:',
    ...summary.symbols.map(
      (s) => `  ${s.usPerRequest.toFixed(1).padStart(6)} µs  ${s.symbol.slice(0, 110)}  (${s.category})`,
    ),
  ];
  return lines.join('\n');
}

/** The perf data file and the map `--perf-basic-prof` wrote for `pid`. */
export function removePerfFiles(file: string, pid: number): void {
  rmSync(file, { force: true });
  rmSync(`/tmp/perf-${pid}.map`, { force: true });
}
