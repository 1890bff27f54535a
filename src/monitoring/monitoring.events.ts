/**
 * Events the monitoring module emits in process (EventEmitter2), after what they describe is stored.
 * The live gateway maps them to the `metrics` and `alerts` channels; no feature module imports the gateway.
 */
export const MonitoringEvents = {
  /** One per collection cycle. */
  MetricsSampled: 'monitoring.metrics.sampled',
  /** An alert was created or changed state. */
  AlertChanged: 'monitoring.alert.changed',
} as const;

export type MonitoringEventName = (typeof MonitoringEvents)[keyof typeof MonitoringEvents];

export interface MetricsSampledEvent {
  /** ISO 8601 time of the sample. */
  at: string;
  /** Metric key from the catalogue → value; labelled series as `name{label="value"}`. */
  values: Record<string, number>;
}

export type AlertState = 'pending' | 'firing' | 'acknowledged' | 'resolved';
export type AlertLevel = 'info' | 'warning' | 'error' | 'critical';

export interface AlertChangedEvent {
  id: string;
  ruleId: string;
  ruleName: string;
  state: AlertState;
  level: AlertLevel;
  labels: Record<string, string>;
  /** The value that last evaluated the condition (null when unknown). */
  value: number | null;
  summary: string | null;
  /** ISO 8601. */
  at: string;
}

export interface MonitoringEventPayloads {
  [MonitoringEvents.MetricsSampled]: MetricsSampledEvent;
  [MonitoringEvents.AlertChanged]: AlertChangedEvent;
}
