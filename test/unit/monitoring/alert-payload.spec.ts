import { createHmac } from 'node:crypto';
import type { Alert } from '../../../src/monitoring/alerts/alerts.repository';
import { alertEmail, alertmanagerPayload, signWebhook } from '../../../src/monitoring/notifications/alert-payload';

const alert: Alert = {
  id: 'a1',
  ruleId: 'r1',
  ruleName: 'HostCpuHigh',
  fingerprint: 'f'.repeat(64),
  labels: { alertname: 'HostCpuHigh', instance: 'db-1', severity: 'warning' },
  state: 'firing',
  level: 'warning',
  value: 91,
  summary: 'CPU at 91%',
  description: null,
  startedAt: new Date('2026-01-01T00:00:00Z'),
  firedAt: new Date('2026-01-01T00:05:00Z'),
  acknowledgedAt: null,
  acknowledgedBy: null,
  acknowledgeNote: null,
  resolvedAt: null,
  resolvedBy: null,
  resolveNote: null,
  lastEvaluatedAt: new Date('2026-01-01T00:05:00Z'),
  lastNotifiedAt: null,
};

describe('Alertmanager webhook payload (version 4)', () => {
  it('has the fields Alertmanager receivers read', () => {
    const p = alertmanagerPayload(alert, 'firing', { summary: 'CPU at 91%' }, 'http://bastion');
    expect(p).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'bastion',
      groupLabels: { alertname: 'HostCpuHigh' },
      commonLabels: alert.labels,
      commonAnnotations: { summary: 'CPU at 91%' },
      externalURL: 'http://bastion',
      truncatedAlerts: 0,
    });
    expect(p.alerts).toEqual([
      expect.objectContaining({
        status: 'firing',
        startsAt: '2026-01-01T00:05:00.000Z',
        endsAt: '0001-01-01T00:00:00Z',
        labels: alert.labels,
      }),
    ]);
  });

  it('marks a resolution with its end time', () => {
    const resolved = { ...alert, state: 'resolved' as const, resolvedAt: new Date('2026-01-01T01:00:00Z') };
    const p = alertmanagerPayload(resolved, 'resolved', {}, 'http://bastion');
    expect(p.status).toBe('resolved');
    expect(p.alerts[0].endsAt).toBe('2026-01-01T01:00:00.000Z');
    expect(alertEmail(p).subject).toBe('[RESOLVED] HostCpuHigh (warning)');
  });

  it('signs timestamp and body with HMAC-SHA256', () => {
    const expected = createHmac('sha256', 'k').update('123.{"a":1}').digest('hex');
    expect(signWebhook('k', '123', '{"a":1}')).toBe(`sha256=${expected}`);
  });

  it('keeps the email subject on one line', () => {
    const p = alertmanagerPayload(alert, 'reminder', { summary: 'line\r\nBcc: x@example.com' }, 'http://b');
    expect(alertEmail(p).subject).toBe('[STILL FIRING] HostCpuHigh (warning): line Bcc: x@example.com');
  });
});
