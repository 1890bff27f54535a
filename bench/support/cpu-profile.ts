/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`): the functions with the most
 * self time, each with its share of the samples, and the same grouped by package (node_modules
 * name, `bastion` for dist/src, `node` for Node's own code, `(gc)`, `(idle)`...).
 *
 *   node -r @swc-node/register bench/support/cpu-profile.ts <file.cpuprofile> [top=10] [last-ms]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTimeRow {
  name: string;
  ms: number;
  /** Share of the samples that were not idle. */
  share: number;
}

export interface ProfileSummary {
  /** Milliseconds of samples outside `(idle)` and `(program)`'s idle time. */
  busyMs: number;
  totalMs: number;
  functions: SelfTimeRow[];
  packages: SelfTimeRow[];
}

function packageOf(url: string, name: string): string {
  if (name === '(garbage collector)') return '(gc)';
  if (name === '(idle)' || name === '(program)') return name;
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return 'node';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.includes('/dist/src/')) return 'bastion';
  return url.split('/').slice(-1)[0];
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/**
 * `lastMs`: only the samples of the profile's last `lastMs` milliseconds (the load phase of a
 * benchmark that stops the server right after it, leaving start-up out).
 */
export function summarise(profile: CpuProfile, top = 10, lastMs?: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const from = lastMs === undefined ? -Infinity : profile.endTime - lastMs * 1000;
  let at = profile.startTime;
  const selfByFrame = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    at += profile.timeDeltas[i] ?? 0;
    if (!node || at < from) continue;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const key = `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
    selfByFrame.set(key, (selfByFrame.get(key) ?? 0) + dt);
    const pkg = packageOf(url, functionName);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + dt);
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>): SelfTimeRow[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: busy > 0 ? ms / busy : 0 }));
  return { busyMs: busy, totalMs: total, functions: rows(selfByFrame), packages: rows(selfByPackage) };
}

export function formatSummary(summary: ProfileSummary, requests?: number): string {
  const lines: string[] = [];
  lines.push(
    `busy ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms sampled` +
      (requests
        ? `; ${((summary.busyMs * 1000) / requests).toFixed(0)} µs of CPU per request (${requests} requests)`
        : ''),
  );
  lines.push('top self time, by function:');
  for (const r of summary.functions) {
    lines.push(`  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.name}`);
  }
  lines.push('self time by package:');
  for (const r of summary.packages) {
    lines.push(`  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.name}`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top, lastMs] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpu-profile.ts <file.cpuprofile> [top] [last-ms]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  console.log(formatSummary(summarise(profile, Number(top ?? 10), lastMs ? Number(lastMs) : undefined)));
}
