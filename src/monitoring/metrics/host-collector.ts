import { readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { seriesKey } from '../alerts/alert-logic';

/** Filesystem types worth reporting; pseudo filesystems (proc, sysfs, tmpfs, cgroup...) are not. */
const REAL_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'overlay', 'vfat', 'ntfs', 'f2fs', 'apfs']);

interface CpuTimes {
  idle: number;
  total: number;
}

interface NetCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

/**
 * Reads the host and the process from Node's `os` module, `statfs` and `/proc` (Linux): no shell
 * and no child process per sample. CPU and network figures are rates over the time since the
 * previous sample, so the first sample has no CPU or network values.
 */
export class HostCollector {
  private lastCpu: CpuTimes[] | undefined;
  private lastNet: Map<string, NetCounters> | undefined;
  private lastAt = 0;
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private mounts: string[] | undefined;

  constructor(private readonly fallbackPath: string) {
    this.loop.enable();
  }

  stop(): void {
    this.loop.disable();
  }

  collect(now = Date.now()): Record<string, number> {
    const values: Record<string, number> = {};
    const seconds = this.lastAt > 0 ? (now - this.lastAt) / 1000 : 0;
    this.lastAt = now;

    const times = cpus().map((c) => {
      const total = c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
      return { idle: c.times.idle, total };
    });
    if (this.lastCpu && this.lastCpu.length === times.length) {
      let idle = 0;
      let total = 0;
      times.forEach((t, core) => {
        const dIdle = t.idle - this.lastCpu![core].idle;
        const dTotal = t.total - this.lastCpu![core].total;
        idle += dIdle;
        total += dTotal;
        values[seriesKey('host_cpu_core_usage_percent', { core: String(core) })] = busyPercent(dIdle, dTotal);
      });
      values.host_cpu_usage_percent = busyPercent(idle, total);
    }
    this.lastCpu = times;

    const [l1, l5, l15] = loadavg();
    values[seriesKey('host_load_average', { period: '1m' })] = l1;
    values[seriesKey('host_load_average', { period: '5m' })] = l5;
    values[seriesKey('host_load_average', { period: '15m' })] = l15;

    const total = totalmem();
    const available = readMemAvailable() ?? freemem();
    values.host_memory_total_bytes = total;
    values.host_memory_available_bytes = available;
    values.host_memory_used_bytes = total - available;
    values.host_memory_usage_percent = round2(((total - available) / total) * 100);

    for (const mount of this.mountPoints()) {
      try {
        const s = statfsSync(mount);
        const size = s.blocks * s.bsize;
        if (size <= 0) continue;
        const free = s.bavail * s.bsize;
        const used = size - s.bfree * s.bsize;
        values[seriesKey('host_disk_total_bytes', { mount })] = size;
        values[seriesKey('host_disk_free_bytes', { mount })] = free;
        values[seriesKey('host_disk_used_bytes', { mount })] = used;
        values[seriesKey('host_disk_usage_percent', { mount })] = round2((used / (used + free)) * 100);
      } catch {
        // A mount that vanished or is not readable: skip it this time.
      }
    }

    const net = readNetDev();
    if (net && this.lastNet && seconds > 0) {
      for (const [iface, c] of net) {
        const prev = this.lastNet.get(iface);
        if (!prev) continue;
        const rate = (a: number, b: number): number => round2(Math.max(0, a - b) / seconds);
        values[seriesKey('host_network_receive_bytes_per_second', { interface: iface })] = rate(
          c.rxBytes,
          prev.rxBytes,
        );
        values[seriesKey('host_network_transmit_bytes_per_second', { interface: iface })] = rate(
          c.txBytes,
          prev.txBytes,
        );
        values[seriesKey('host_network_receive_packets_per_second', { interface: iface })] = rate(
          c.rxPackets,
          prev.rxPackets,
        );
        values[seriesKey('host_network_transmit_packets_per_second', { interface: iface })] = rate(
          c.txPackets,
          prev.txPackets,
        );
      }
    }
    if (net) this.lastNet = net;

    const mem = process.memoryUsage();
    values.process_heap_used_bytes = mem.heapUsed;
    values.process_resident_memory_bytes = mem.rss;
    values.process_open_handles = process.getActiveResourcesInfo().length;
    const lag = this.loop.mean / 1e9;
    values.process_event_loop_lag_seconds = Number.isFinite(lag) ? Number(lag.toFixed(6)) : 0;
    this.loop.reset();
    return values;
  }

  private mountPoints(): string[] {
    if (this.mounts) return this.mounts;
    const found: string[] = [];
    try {
      const seen = new Set<string>();
      for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
        const [device, mount, type] = line.split(' ');
        if (!mount || !REAL_FS.has(type) || seen.has(device) || mount.startsWith('/proc')) continue;
        seen.add(device);
        found.push(mount.replace(/\\040/g, ' '));
      }
    } catch {
      // Not Linux: only the data directory's filesystem.
    }
    this.mounts = found.length > 0 ? found.slice(0, 16) : [this.fallbackPath];
    return this.mounts;
  }
}

function busyPercent(idle: number, total: number): number {
  return total > 0 ? round2((1 - idle / total) * 100) : 0;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function readMemAvailable(): number | undefined {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** `/proc/net/dev`: per interface, received bytes and packets, then sent ones (fields 1, 2, 9, 10). */
function readNetDev(): Map<string, NetCounters> | undefined {
  try {
    const result = new Map<string, NetCounters>();
    for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const iface = line.slice(0, colon).trim();
      const f = line
        .slice(colon + 1)
        .trim()
        .split(/\s+/)
        .map(Number);
      result.set(iface, { rxBytes: f[0], rxPackets: f[1], txBytes: f[8], txPackets: f[9] });
    }
    return result;
  } catch {
    return undefined;
  }
}
