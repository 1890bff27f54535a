import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { dataDirFailure } from '../startup/startup-error';
import { type DeprecatedApiVersion, envSchema, type Env } from './config.schema';

export type RuntimeMode = 'embedded' | 'cluster';

/** The typed, validated configuration every part of Bastion reads. Built once, at boot. */
export interface AppConfig {
  env: Env['NODE_ENV'];
  mode: RuntimeMode;
  http: {
    port: number;
    host: string;
    bodyLimit: number;
    /** For routes ending in /bulk (10,000 trades are about 1.4 MB). */
    bulkBodyLimit: number;
    corsOrigins: string[];
    trustedProxies: string[];
    shutdownTimeoutMs: number;
  };
  log: { level: Env['LOG_LEVEL']; pretty: boolean };
  /** Swagger UI at /docs and the OpenAPI document at /docs-json. */
  docs: { enabled: boolean };
  dataDir: string;
  database: {
    /** PostgreSQL URL in cluster mode; undefined in embedded mode until the engine is started. */
    url?: string;
    poolSize: number;
    ssl: boolean;
    statementTimeoutMs: number;
    migrationsRun: boolean;
    /** Cluster mode: how long start-up keeps retrying an unreachable PostgreSQL. */
    connectTimeoutSeconds: number;
  };
  redisUrl?: string;
  /** Prepended to every Redis key, so several deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  secrets: {
    jwtSecret: Buffer;
    masterKey: Buffer;
    /** Former master keys (MASTER_KEY_PREVIOUS), kept to unwrap key material until rotate-master-key has rewrapped it. */
    previousMasterKeys?: Buffer[];
    source: 'environment' | 'data-dir' | 'provided';
  };
  bootstrap: { adminEmail?: string; adminPassword?: string };
  registrationMode: Env['REGISTRATION_MODE'];
  health: { heapLimitBytes: number; diskMinFreeBytes: number };
  reports: {
    /** Where report files are stored (DATA_DIR/reports unless REPORTS_DIR). */
    dir: string;
    retentionDays: number;
    pollIntervalMs: number;
    templateTimeoutMs: number;
    templateMemoryMb: number;
    chromiumPath: string;
    attachMaxBytes: number;
    publicUrl?: string;
    /** SSRF guard for report webhooks (REPORTS_WEBHOOK_BLOCK_PRIVATE). */
    webhookBlockPrivate: boolean;
  };
  mail: { smtpUrl?: string; from: string };
  /** API versions answered with Deprecation/Sunset/Link headers, and where their migration notes are. */
  versioning: { deprecated: DeprecatedApiVersion[]; migrationNotesUrl: string };
  /** Who may scrape /metrics: a bearer token and/or client address ranges (loopback only when neither). */
  metrics: { token?: string; allowIps: string[] };
  monitoring: {
    intervalSeconds: number;
    /** Label of this instance's samples and alerts (default: the host name). */
    instance: string;
    rawRetentionHours: number;
    rollupRetentionDays: number;
    /** Reminder while an alert fires unacknowledged; 0: none. */
    reminderMinutes: number;
    webhookTimeoutMs: number;
    maxAttempts: number;
    retryBaseSeconds: number;
    /** SSRF guard: refuse webhook destinations in loopback, private and link-local ranges. */
    webhookBlockPrivate: boolean;
    smtpUrl?: string;
    smtpFrom: string;
  };
  rateLimit: { ipPerMinute: number; authPerMinute: number; userPerMinute: number; keyTiers: Record<string, number> };
  /** The Socket.IO gateway (`/live`): inbound limits, slow-client bound, how often open sockets are re-checked. */
  live: { maxMessageBytes: number; messagesPerSecond: number; maxBufferedMessages: number; recheckIntervalMs: number };
  ipRules: { allow: string[]; deny: string[] };
  threats: {
    windowSeconds: number;
    bruteForceFailures: number;
    stuffingAccounts: number;
    mfaFailures: number;
    forbiddenBurst: number;
    blockSeconds: number;
  };
  auth: {
    accessTokenTtlSeconds: number;
    sessionIdleSeconds: number;
    sessionAbsoluteSeconds: number;
    refreshGraceSeconds: number;
    issuer: string;
    audience: string;
    /** Refused sign-ins are answered no sooner than this after they began (LOGIN_FAILURE_MIN_MS). */
    loginFailureMinMs: number;
  };
  lockout: { threshold: number; baseSeconds: number; maxSeconds: number };
  /** Roles whose users must have MFA active before they can do anything but enrol. */
  mfa: { requiredRoles: string[] };
  /** API keys: the longest lifetime, and whether keys that never expire may be created. */
  apiKeys: { maxTtlDays: number; allowNoExpiry: boolean };
  passwords: {
    minLength: number;
    maxLength: number;
    requireComposition: boolean;
    historySize: number;
    minScore: number;
    maxAgeDays: number;
    argon2: { memoryCost: number; timeCost: number; parallelism: number };
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment. Throws ConfigError naming every bad variable and what is wrong with it. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings mean "unset": an `.env` line such as `REDIS_URL=` must not fail validation.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(environment)';
        const given = typeof issue.path[0] === 'string' ? cleaned[issue.path[0]] : undefined;
        const shown =
          given === undefined || /SECRET|KEY|PASSWORD|URL|METRICS_TOKEN/.test(name) ? '' : ` (got "${given}")`;
        return `${name} ${issue.message}${shown}`;
      }),
    );
  }
  return result.data;
}

/**
 * Builds the configuration from the environment. Secrets not given in the environment are
 * generated on first start and kept in `<DATA_DIR>/secrets.json` (mode 0600), so tokens and
 * encrypted data survive restarts; in production the schema has already required them.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): AppConfig {
  const env = parseEnv(source);
  const dataDir = resolve(env.DATA_DIR);
  return buildConfig(env, resolveSecrets(env, dataDir));
}

export function buildConfig(env: Env, secrets: AppConfig['secrets']): AppConfig {
  return {
    env: env.NODE_ENV,
    mode: env.DATABASE_URL ? 'cluster' : 'embedded',
    http: {
      port: env.PORT,
      host: env.HOST,
      bodyLimit: env.BODY_LIMIT,
      bulkBodyLimit: env.BULK_BODY_LIMIT,
      corsOrigins: env.CORS_ORIGINS,
      trustedProxies: env.TRUSTED_PROXIES,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    },
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY },
    docs: { enabled: env.DOCS_ENABLED },
    dataDir: resolve(env.DATA_DIR),
    database: {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      ssl: env.DATABASE_SSL,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      migrationsRun: env.MIGRATIONS_RUN,
      connectTimeoutSeconds: env.DATABASE_CONNECT_TIMEOUT_SECONDS,
    },
    redisUrl: env.REDIS_URL,
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    secrets,
    bootstrap: { adminEmail: env.BOOTSTRAP_ADMIN_EMAIL, adminPassword: env.BOOTSTRAP_ADMIN_PASSWORD },
    registrationMode: env.REGISTRATION_MODE,
    reports: {
      dir: resolve(env.REPORTS_DIR ?? join(env.DATA_DIR, 'reports')),
      retentionDays: env.REPORTS_RETENTION_DAYS,
      pollIntervalMs: env.REPORTS_POLL_INTERVAL_MS,
      templateTimeoutMs: env.REPORTS_TEMPLATE_TIMEOUT_MS,
      templateMemoryMb: env.REPORTS_TEMPLATE_MEMORY_MB,
      chromiumPath: env.REPORTS_CHROMIUM_PATH,
      attachMaxBytes: env.REPORTS_ATTACH_MAX_BYTES,
      publicUrl: env.REPORTS_PUBLIC_URL,
      webhookBlockPrivate: env.REPORTS_WEBHOOK_BLOCK_PRIVATE,
    },
    mail: { smtpUrl: env.SMTP_URL, from: env.SMTP_FROM },
    health: {
      heapLimitBytes: env.HEALTH_HEAP_LIMIT_MB * 1024 * 1024,
      diskMinFreeBytes: env.HEALTH_DISK_MIN_FREE_MB * 1024 * 1024,
    },
    versioning: { deprecated: env.DEPRECATED_API_VERSIONS, migrationNotesUrl: env.API_MIGRATION_NOTES_URL },
    metrics: { token: env.METRICS_TOKEN, allowIps: env.METRICS_ALLOW_IPS },
    monitoring: {
      intervalSeconds: env.MONITORING_INTERVAL_SECONDS,
      instance: env.MONITORING_INSTANCE ?? hostname(),
      rawRetentionHours: env.MONITORING_RAW_RETENTION_HOURS,
      rollupRetentionDays: env.MONITORING_ROLLUP_RETENTION_DAYS,
      reminderMinutes: env.MONITORING_REMINDER_MINUTES,
      webhookTimeoutMs: env.MONITORING_WEBHOOK_TIMEOUT_MS,
      maxAttempts: env.MONITORING_NOTIFY_MAX_ATTEMPTS,
      retryBaseSeconds: env.MONITORING_NOTIFY_RETRY_BASE_SECONDS,
      webhookBlockPrivate: env.MONITORING_WEBHOOK_BLOCK_PRIVATE,
      smtpUrl: env.SMTP_URL,
      smtpFrom: env.SMTP_FROM,
    },
    rateLimit: {
      ipPerMinute: env.RATE_LIMIT_IP_PER_MINUTE,
      authPerMinute: env.RATE_LIMIT_AUTH_PER_MINUTE,
      userPerMinute: env.RATE_LIMIT_USER_PER_MINUTE,
      keyTiers: env.RATE_LIMIT_KEY_TIERS,
    },
    live: {
      maxMessageBytes: env.LIVE_MAX_MESSAGE_BYTES,
      messagesPerSecond: env.LIVE_MESSAGES_PER_SECOND,
      maxBufferedMessages: env.LIVE_MAX_BUFFERED_MESSAGES,
      recheckIntervalMs: env.LIVE_RECHECK_INTERVAL_MS,
    },
    ipRules: { allow: env.IP_ALLOW, deny: env.IP_DENY },
    threats: {
      windowSeconds: env.THREAT_WINDOW_SECONDS,
      bruteForceFailures: env.THREAT_BRUTE_FORCE_FAILURES,
      stuffingAccounts: env.THREAT_STUFFING_ACCOUNTS,
      mfaFailures: env.THREAT_MFA_FAILURES,
      forbiddenBurst: env.THREAT_FORBIDDEN_BURST,
      blockSeconds: env.THREAT_BLOCK_SECONDS,
    },
    auth: {
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      loginFailureMinMs: env.LOGIN_FAILURE_MIN_MS,
      sessionIdleSeconds: env.SESSION_IDLE_TIMEOUT_MINUTES * 60,
      sessionAbsoluteSeconds: env.SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600,
      refreshGraceSeconds: env.REFRESH_GRACE_SECONDS,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
    },
    lockout: {
      threshold: env.LOCKOUT_THRESHOLD,
      baseSeconds: env.LOCKOUT_BASE_SECONDS,
      maxSeconds: env.LOCKOUT_MAX_SECONDS,
    },
    mfa: { requiredRoles: env.MFA_REQUIRED_ROLES },
    apiKeys: { maxTtlDays: env.API_KEY_MAX_TTL_DAYS, allowNoExpiry: env.API_KEY_ALLOW_NO_EXPIRY },
    passwords: {
      minLength: env.PASSWORD_MIN_LENGTH,
      maxLength: env.PASSWORD_MAX_LENGTH,
      requireComposition: env.PASSWORD_REQUIRE_COMPOSITION,
      historySize: env.PASSWORD_HISTORY,
      minScore: env.PASSWORD_MIN_SCORE,
      maxAgeDays: env.PASSWORD_MAX_AGE_DAYS,
      argon2: {
        memoryCost: env.ARGON2_MEMORY_KIB,
        timeCost: env.ARGON2_TIME_COST,
        parallelism: env.ARGON2_PARALLELISM,
      },
    },
  };
}

export interface StoredSecrets {
  jwtSecret: string;
  masterKey: string;
  /** Former master keys, present only while `rotate-master-key` runs (or if it was interrupted). */
  previousMasterKeys?: string[];
}

function resolveSecrets(env: Env, dataDir: string): AppConfig['secrets'] {
  const fromEnv = env.MASTER_KEY_PREVIOUS.map((v) => Buffer.from(v, 'base64url'));
  if (env.JWT_SECRET && env.MASTER_KEY) {
    return {
      jwtSecret: Buffer.from(env.JWT_SECRET, 'base64url'),
      masterKey: Buffer.from(env.MASTER_KEY, 'base64url'),
      previousMasterKeys: fromEnv,
      source: 'environment',
    };
  }
  const stored = readOrCreateSecrets(dataDir);
  const fromFile = env.MASTER_KEY ? [] : (stored.previousMasterKeys ?? []).map((v) => Buffer.from(v, 'base64url'));
  return {
    jwtSecret: Buffer.from(env.JWT_SECRET ?? stored.jwtSecret, 'base64url'),
    masterKey: Buffer.from(env.MASTER_KEY ?? stored.masterKey, 'base64url'),
    previousMasterKeys: [...fromEnv, ...fromFile],
    source: 'data-dir',
  };
}

/** Replaces `<dataDir>/secrets.json` atomically (write, then rename). */
export function writeStoredSecrets(dataDir: string, secrets: StoredSecrets): void {
  const file = join(dataDir, 'secrets.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}

/** The secrets kept in `<dataDir>/secrets.json` (created on first use). */
export function readStoredSecrets(dataDir: string): StoredSecrets {
  return readOrCreateSecrets(dataDir);
}

function readOrCreateSecrets(dataDir: string): StoredSecrets {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredSecrets>;
    if (typeof parsed.jwtSecret !== 'string' || typeof parsed.masterKey !== 'string') {
      throw new ConfigError([`${file} is damaged: it must hold jwtSecret and masterKey`]);
    }
    return parsed as StoredSecrets;
  }
  const fresh: StoredSecrets = {
    jwtSecret: randomBytes(32).toString('base64url'),
    masterKey: randomBytes(32).toString('base64url'),
  };
  // Write then rename, so a crash never leaves a half-written secrets file behind.
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, JSON.stringify(fresh, null, 2), { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
    throw dataDirFailure(err, dataDir, 'store the generated secrets (JWT_SECRET, MASTER_KEY)') ?? err;
  }
  return fresh;
}
