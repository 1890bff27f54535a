import { z } from 'zod';
import { isAddressOrRange } from '../net/cidr';

/**
 * Every setting Bastion reads from the environment, in one place. The README's settings table is
 * written from this schema: keep the two in step.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const positiveInt = z.coerce
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .positive('must be positive');

/** Sizes such as `1mb`, `512kb` or a number of bytes. */
const byteSize = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'must be a size such as 1mb, 512kb or a number of bytes')
  .transform((v) => {
    const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v)!;
    const unit = (m[2] ?? 'b').toLowerCase();
    const factor = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit]!;
    return Math.floor(Number(m[1]) * factor);
  });

const postgresUrl = z
  .string()
  .url('must be a URL such as postgres://user:pass@host:5432/db')
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must start with postgres:// or postgresql://');

const redisUrl = z
  .string()
  .url('must be a URL such as redis://host:6379')
  .refine((v) => /^rediss?:\/\//.test(v), 'must start with redis:// or rediss://');

/** A comma-separated list of addresses or CIDR ranges (with `names`, also Express's range names). */
const addressList = (options: { names?: boolean } = {}) =>
  csv
    .refine(
      (list) => list.every((v) => isAddressOrRange(v, options)),
      'must be a comma-separated list of IP addresses or CIDR ranges',
    )
    .default([]);

const origin = (v: string): boolean => v === '*' || /^https?:\/\/[^/\s]+$/.test(v);

/** At least 32 bytes once decoded from base64 or base64url. */
const secret = (what: string) =>
  z
    .string()
    .refine(
      (v) => Buffer.from(v, 'base64url').length >= 32,
      `must be at least 32 random bytes encoded as base64 (${what}); generate one with: openssl rand -base64 32`,
    );

/** One date (`2027-06-30`, midnight UTC) or date-time with a zone, as a Date; undefined if invalid. */
function parseInstant(value: string): Date | undefined {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  if (!dateOnly && !/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  const date = new Date(dateOnly ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) return undefined;
  if (dateOnly && date.toISOString().slice(0, 10) !== value) return undefined; // 2027-02-30
  return date;
}

export interface DeprecatedApiVersion {
  /** `1` for /api/v1. */
  version: string;
  /** Deprecation (RFC 9745): when it took effect; the Unix epoch when not given (deprecated, no date). */
  deprecatedAt: Date;
  /** Sunset (RFC 8594): when the version may stop answering. */
  sunsetAt: Date;
}

/**
 * `DEPRECATED_API_VERSIONS`: comma-separated `<version>=<sunset>` or
 * `<version>=<deprecated-since>/<sunset>` (ISO 8601 dates or date-times), e.g. `1=2027-06-30`.
 */
const deprecatedVersions = z.string().transform((value, ctx): DeprecatedApiVersion[] => {
  const result: DeprecatedApiVersion[] = [];
  for (const entry of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^v?(\d{1,3})=(?:([^/]+)\/)?([^/]+)$/.exec(entry);
    const since = m?.[2] === undefined ? new Date(0) : parseInstant(m[2]);
    const sunset = m ? parseInstant(m[3]) : undefined;
    if (!m || !since || !sunset || since > sunset || result.some((r) => r.version === m[1])) {
      ctx.addIssue({
        code: 'custom',
        message: `must be comma-separated <version>=<sunset date> or <version>=<deprecated since>/<sunset> such as 1=2027-06-30 (bad entry "${entry}")`,
      });
      return z.NEVER;
    }
    result.push({ version: m[1], deprecatedAt: since, sunsetAt: sunset });
  }
  return result;
});

export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: port.default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATA_DIR: z.string().min(1).default('./data'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_PRETTY: bool.default(false),
    DOCS_ENABLED: bool.default(true),

    DATABASE_URL: postgresUrl.optional(),
    DATABASE_POOL_SIZE: positiveInt.max(1000).default(10),
    DATABASE_SSL: bool.default(false),
    DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.default(30_000),
    MIGRATIONS_RUN: bool.default(true),
    DATABASE_CONNECT_TIMEOUT_SECONDS: z.coerce
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(0, 'must be 0 or more')
      .max(3600, 'must be at most 3600')
      .default(30),
    REDIS_URL: redisUrl.optional(),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[\w:.-]{1,64}$/, 'must be 1-64 letters, digits or :._-')
      .default('bastion:'),

    JWT_SECRET: secret('JWT signing key').optional(),
    MASTER_KEY: secret('master encryption key').optional(),
    MASTER_KEY_PREVIOUS: csv
      .refine(
        (list) => list.every((v) => Buffer.from(v, 'base64url').length >= 32),
        'must be a comma-separated list of former master keys, each at least 32 random bytes encoded as base64',
      )
      .default([]),

    BOOTSTRAP_ADMIN_EMAIL: z.string().email('must be an email address').optional(),
    // The full password policy (common passwords, composition, ...) is applied when it is used.
    BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
    REGISTRATION_MODE: z.enum(['open', 'approval', 'closed']).default('approval'),

    CORS_ORIGINS: csv
      .refine((list) => list.every(origin), 'must be a comma-separated list of origins such as https://app.example.com')
      .default([]),
    TRUSTED_PROXIES: addressList({ names: true }),
    BODY_LIMIT: byteSize.default(1024 * 1024),
    BULK_BODY_LIMIT: byteSize.default(16 * 1024 * 1024),
    SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),

    ACCESS_TOKEN_TTL_SECONDS: positiveInt.max(86_400).default(900),
    LOGIN_FAILURE_MIN_MS: z.coerce.number({ error: 'must be a number' }).int().min(0).max(10_000).default(250),
    SESSION_IDLE_TIMEOUT_MINUTES: positiveInt.default(30),
    SESSION_ABSOLUTE_TIMEOUT_HOURS: positiveInt.default(12),
    REFRESH_GRACE_SECONDS: z.coerce.number({ error: 'must be a number' }).int().min(0).max(300).default(10),
    JWT_ISSUER: z.string().min(1).default('bastion'),
    JWT_AUDIENCE: z.string().min(1).default('bastion-api'),

    LOCKOUT_THRESHOLD: positiveInt.default(5),
    LOCKOUT_BASE_SECONDS: positiveInt.default(60),
    LOCKOUT_MAX_SECONDS: positiveInt.default(900),
    MFA_REQUIRED_ROLES: csv
      .refine(
        (list) => list.every((role) => /^[a-z_]+$/.test(role)),
        'must be a comma-separated list of role names such as admin,super_admin',
      )
      .default([]),
    // API keys (issue 8)
    API_KEY_MAX_TTL_DAYS: positiveInt.max(3650, 'must be at most 3650').default(365),
    API_KEY_ALLOW_NO_EXPIRY: bool.default(false),

    PASSWORD_MIN_LENGTH: z.coerce
      .number({ error: 'must be a number' })
      .int()
      .min(8, 'must be at least 8')
      .max(128)
      .default(12),
    PASSWORD_MAX_LENGTH: z.coerce
      .number({ error: 'must be a number' })
      .int()
      .min(64, 'must be at least 64')
      .max(1024)
      .default(128),
    PASSWORD_REQUIRE_COMPOSITION: bool.default(false),
    PASSWORD_MIN_SCORE: z.coerce.number({ error: 'must be a number' }).int().min(0).max(4).default(3),
    PASSWORD_HISTORY: z.coerce.number({ error: 'must be a number' }).int().min(0).max(24).default(5),
    PASSWORD_MAX_AGE_DAYS: z.coerce.number({ error: 'must be a number' }).int().min(0).default(0),
    ARGON2_MEMORY_KIB: positiveInt.min(8192, 'must be at least 8192').default(19_456),
    ARGON2_TIME_COST: positiveInt.default(2),
    ARGON2_PARALLELISM: positiveInt.default(1),

    RATE_LIMIT_IP_PER_MINUTE: positiveInt.default(600),
    RATE_LIMIT_AUTH_PER_MINUTE: positiveInt.default(10),
    RATE_LIMIT_USER_PER_MINUTE: positiveInt.default(1200),
    RATE_LIMIT_KEY_TIERS: z
      .string()
      .regex(/^\s*\w+=\d+(\s*,\s*\w+=\d+)*\s*$/, 'must look like standard=600,elevated=3000,bulk=12000')
      .transform((v) =>
        Object.fromEntries(
          v
            .split(',')
            .map((pair) => pair.split('=').map((x) => x.trim()))
            .map(([k, n]) => [k, Number(n)]),
        ),
      )
      .refine(
        (tiers) => ['standard', 'elevated', 'bulk'].every((t) => t in tiers),
        'must define standard, elevated and bulk',
      )
      .default({ standard: 600, elevated: 3000, bulk: 12000 }),
    IP_ALLOW: addressList(),
    IP_DENY: addressList(),
    THREAT_WINDOW_SECONDS: positiveInt.default(900),
    THREAT_BRUTE_FORCE_FAILURES: positiveInt.default(10),
    THREAT_STUFFING_ACCOUNTS: positiveInt.default(10),
    THREAT_MFA_FAILURES: positiveInt.default(5),
    THREAT_FORBIDDEN_BURST: positiveInt.default(20),
    THREAT_BLOCK_SECONDS: positiveInt.default(3600),

    HEALTH_HEAP_LIMIT_MB: positiveInt.default(1536),
    HEALTH_DISK_MIN_FREE_MB: positiveInt.default(256),

    DEPRECATED_API_VERSIONS: deprecatedVersions.default([]),
    API_MIGRATION_NOTES_URL: z
      .string()
      .regex(/^(https?:\/\/\S+|\/\S*)$/, 'must be an http(s) URL or a path starting with /')
      .default('/docs'),

    METRICS_TOKEN: z
      .string()
      .min(32, 'must be at least 32 characters; generate one with: openssl rand -hex 32')
      .regex(/^\S+$/, 'must not contain spaces')
      .optional(),
    METRICS_ALLOW_IPS: addressList({ names: true }),

    LIVE_MAX_MESSAGE_BYTES: byteSize.default(4096),
    LIVE_MESSAGES_PER_SECOND: positiveInt.max(10_000).default(10),
    LIVE_MAX_BUFFERED_MESSAGES: positiveInt.default(1000),
    LIVE_RECHECK_INTERVAL_MS: positiveInt.min(50, 'must be at least 50').max(60_000).default(500),

    // Monitoring and alerting
    MONITORING_INTERVAL_SECONDS: positiveInt.max(86_400).default(10),
    MONITORING_INSTANCE: z
      .string()
      .regex(/^[\w.:-]{1,100}$/, 'must be 1-100 letters, digits or .:_-')
      .optional(),
    MONITORING_RAW_RETENTION_HOURS: positiveInt.default(24),
    MONITORING_ROLLUP_RETENTION_DAYS: positiveInt.default(30),
    MONITORING_REMINDER_MINUTES: z.coerce.number({ error: 'must be a number' }).int().min(0).default(60),
    MONITORING_WEBHOOK_TIMEOUT_MS: positiveInt.max(60_000).default(5000),
    MONITORING_NOTIFY_MAX_ATTEMPTS: positiveInt.max(20).default(8),
    MONITORING_NOTIFY_RETRY_BASE_SECONDS: positiveInt.default(10),
    MONITORING_WEBHOOK_BLOCK_PRIVATE: bool.default(false),
    // Reporting
    REPORTS_DIR: z.string().min(1).optional(),
    REPORTS_RETENTION_DAYS: positiveInt.default(90),
    REPORTS_POLL_INTERVAL_MS: positiveInt.default(2000),
    REPORTS_TEMPLATE_TIMEOUT_MS: positiveInt.default(5000),
    REPORTS_TEMPLATE_MEMORY_MB: positiveInt.default(64),
    REPORTS_CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
    REPORTS_ATTACH_MAX_BYTES: positiveInt.default(5 * 1024 * 1024),
    REPORTS_WEBHOOK_BLOCK_PRIVATE: bool.default(false),
    REPORTS_PUBLIC_URL: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
      .optional(),
    SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\/\S+$/, 'must be an smtp:// or smtps:// URL')
      .optional(),
    SMTP_FROM: z.string().min(3).default('Bastion <bastion@localhost>'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    for (const key of ['JWT_SECRET', 'MASTER_KEY'] as const) {
      if (!env[key]) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'is required when NODE_ENV=production (secrets are only generated outside production)',
        });
      }
    }
  });

export type Env = z.infer<typeof envSchema>;
