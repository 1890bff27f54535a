import { createHmac } from 'node:crypto';
import type { Alert } from '../alerts/alerts.repository';

export type NotificationKind = 'firing' | 'resolved' | 'reminder';

/**
 * The JSON body of a webhook, shaped like Alertmanager's webhook payload (version 4), so receivers
 * written for Alertmanager (PagerDuty bridges, chat relays) accept it. Bastion additions are in
 * `bastion` (alert id, state, acknowledgement, notification kind).
 */
export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: {
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }[];
  bastion: {
    kind: NotificationKind;
    alertId: string;
    ruleId: string | null;
    state: string;
    value: number | null;
    acknowledgedBy: string | null;
    acknowledgeNote: string | null;
  };
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

export function alertmanagerPayload(
  alert: Alert,
  kind: NotificationKind,
  annotations: Record<string, string>,
  externalUrl: string,
): AlertmanagerPayload {
  const status = kind === 'resolved' ? 'resolved' : 'firing';
  const labels = { ...alert.labels };
  return {
    version: '4',
    groupKey: `{}:{alertname="${labels.alertname ?? alert.ruleName}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'bastion',
    groupLabels: { alertname: labels.alertname ?? alert.ruleName },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: externalUrl,
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: (alert.firedAt ?? alert.startedAt).toISOString(),
        endsAt: status === 'resolved' && alert.resolvedAt ? alert.resolvedAt.toISOString() : ZERO_TIME,
        generatorURL: `${externalUrl}/api/v1/monitoring/alerts?rule=${alert.ruleId ?? ''}`,
        fingerprint: alert.fingerprint.slice(0, 16),
      },
    ],
    bastion: {
      kind,
      alertId: alert.id,
      ruleId: alert.ruleId,
      state: alert.state,
      value: alert.value,
      acknowledgedBy: alert.acknowledgedBy,
      acknowledgeNote: alert.acknowledgeNote,
    },
  };
}

/** `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`: what `X-Bastion-Signature` carries. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Subject and text of an alert email. */
export function alertEmail(p: AlertmanagerPayload): { subject: string; text: string } {
  const a = p.alerts[0];
  const kind = p.bastion.kind === 'reminder' ? 'STILL FIRING' : p.status.toUpperCase();
  const subject = `[${kind}] ${a.labels.alertname ?? 'alert'} (${a.labels.severity ?? ''})${
    a.annotations.summary ? `: ${a.annotations.summary}` : ''
  }`;
  const lines = [
    `Alert: ${a.labels.alertname}`,
    `Status: ${p.status}${p.bastion.kind === 'reminder' ? ' (reminder: not acknowledged)' : ''}`,
    `Value: ${p.bastion.value ?? 'n/a'}`,
    `Started: ${a.startsAt}`,
    ...(p.status === 'resolved' ? [`Resolved: ${a.endsAt}`] : []),
    ...(a.annotations.description ? ['', a.annotations.description] : []),
    ...(a.annotations.runbookUrl ? ['', `Runbook: ${a.annotations.runbookUrl}`] : []),
    '',
    'Labels:',
    ...Object.entries(a.labels).map(([k, v]) => `  ${k}=${v}`),
  ];
  return { subject: subject.replace(/[\r\n]+/g, ' ').slice(0, 250), text: lines.join('\n') };
}
