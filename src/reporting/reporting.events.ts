/**
 * Events the reporting module emits in process (EventEmitter2), after what they describe is stored.
 * The live gateway maps them to `report:<id>` channels; no feature module imports the gateway.
 */
export const ReportingEvents = {
  /** A report run changed status or progress. */
  RunProgress: 'report.run.progress',
} as const;

export type ReportingEventName = (typeof ReportingEvents)[keyof typeof ReportingEvents];

export type ReportRunStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface ReportRunProgressEvent {
  /** The run's id: the `<id>` of `report:<id>` and of GET /api/v1/reports/:id. */
  reportId: string;
  /** The user who owns the run (who may see it besides holders of broader read permissions). */
  ownerId: string;
  status: ReportRunStatus;
  /** 0–100. */
  progress: number;
  /** Why the run failed (a message safe to show), or null. */
  error: string | null;
  /** ISO 8601. */
  at: string;
}

export interface ReportingEventPayloads {
  [ReportingEvents.RunProgress]: ReportRunProgressEvent;
}
