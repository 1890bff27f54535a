/**
 * Every metric the monitoring module collects, with its labels: what alert rules may watch
 * (`GET /api/v1/monitoring/alert-rules/catalogue`) and what `/metrics` exposes under `bastion_`.
 */
export interface MetricDescriptor {
  /** Key in samples and rules, e.g. `host_cpu_usage_percent`. */
  name: string;
  help: string;
  unit:
    'percent' | 'bytes' | 'bytes_per_second' | 'packets_per_second' | 'seconds' | 'count' | 'per_minute' | 'boolean';
  labels: string[];
  /**
   * The Prometheus gauge this metric is exposed as, or null when `/metrics` carries it otherwise
   * (as a counter: rates per minute are for rules, Prometheus computes its own with `rate()`).
   * Percentages are exposed as ratios (0-1), by Prometheus convention.
   */
  prometheus: string | null;
}

const d = (
  name: string,
  unit: MetricDescriptor['unit'],
  help: string,
  labels: string[] = [],
  prometheus: string | null = `bastion_${name.replace(/_percent$/, '_ratio')}`,
): MetricDescriptor => ({ name, unit, help, labels, prometheus });

export const BUILTIN_METRICS: readonly MetricDescriptor[] = [
  d('host_cpu_usage_percent', 'percent', 'CPU utilisation of the host over the last interval, all cores.'),
  d('host_cpu_core_usage_percent', 'percent', 'CPU utilisation of one core over the last interval.', ['core']),
  d('host_load_average', 'count', 'Load average of the host.', ['period']),
  d('host_memory_used_bytes', 'bytes', 'Memory in use on the host (total minus available).'),
  d('host_memory_available_bytes', 'bytes', 'Memory available to new processes on the host.'),
  d('host_memory_total_bytes', 'bytes', 'Physical memory of the host.'),
  d('host_memory_usage_percent', 'percent', 'Memory in use on the host, as a share of the total.'),
  d('host_disk_used_bytes', 'bytes', 'Space used on a mounted filesystem.', ['mount']),
  d('host_disk_free_bytes', 'bytes', 'Space available to unprivileged users on a mounted filesystem.', ['mount']),
  d('host_disk_total_bytes', 'bytes', 'Size of a mounted filesystem.', ['mount']),
  d('host_disk_usage_percent', 'percent', 'Space used on a mounted filesystem, as a share of its size.', ['mount']),
  d('host_network_receive_bytes_per_second', 'bytes_per_second', 'Bytes received per second by an interface.', [
    'interface',
  ]),
  d('host_network_transmit_bytes_per_second', 'bytes_per_second', 'Bytes sent per second by an interface.', [
    'interface',
  ]),
  d('host_network_receive_packets_per_second', 'packets_per_second', 'Packets received per second by an interface.', [
    'interface',
  ]),
  d('host_network_transmit_packets_per_second', 'packets_per_second', 'Packets sent per second by an interface.', [
    'interface',
  ]),
  d('process_event_loop_lag_seconds', 'seconds', 'Mean event-loop delay of the process over the last interval.'),
  d('process_heap_used_bytes', 'bytes', 'V8 heap in use by the process.'),
  d('process_resident_memory_bytes', 'bytes', 'Resident set size of the process.'),
  d('process_open_handles', 'count', 'Active handles and requests of the process (sockets, timers, files).'),
  d('db_pool_connections', 'count', 'Database pool connections by state (in_use, idle, waiting).', ['state']),
  d('redis_up', 'boolean', 'Whether Redis answered a PING (1) or not (0); absent without REDIS_URL.'),
  d('ready', 'boolean', 'Whether the instance is ready: its database answered (1) or not (0).'),
  d('trades_ingested_per_minute', 'per_minute', 'Trades stored per minute on this instance.', [], null),
  d('price_updates_per_minute', 'per_minute', 'Prices stored per minute on this instance.', [], null),
  d('logins_failed_per_minute', 'per_minute', 'Failed sign-ins per minute on this instance.', [], null),
  d('account_lockouts_per_minute', 'per_minute', 'Sign-ins refused on a locked account, per minute.', [], null),
  d('security_events_per_minute', 'per_minute', 'Security events recorded per minute on this instance.', [], null),
];
