import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseEnv } from '../../../../src/common/config/app-config';
import { problemsOf } from '../../support/config-problems';

describe('configuration', () => {
  it('has working defaults with nothing set', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      REGISTRATION_MODE: 'approval',
      MIGRATIONS_RUN: true,
    });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a number (got "eighty")'],
    [{ PORT: '70000' }, 'PORT must be between 0 and 65535 (got "70000")'],
    [{ REGISTRATION_MODE: 'sometimes' }, 'REGISTRATION_MODE'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL must start with postgres://'],
    [
      { TRUSTED_PROXIES: '10.0.0.0/8,not-an-ip' },
      'TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDR ranges',
    ],
    [{ CORS_ORIGINS: 'app.example.com' }, 'CORS_ORIGINS must be a comma-separated list of origins'],
    [{ BODY_LIMIT: 'huge' }, 'BODY_LIMIT must be a size'],
    [{ MIGRATIONS_RUN: 'maybe' }, 'MIGRATIONS_RUN must be true or false'],
  ])('names the variable and the fault for %j', (env, message) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('reports every bad variable at once', () => {
    expect(problemsOf({ PORT: '-1', LOG_LEVEL: 'loud', DATABASE_POOL_SIZE: '0' })).toHaveLength(3);
  });

  it('never echoes secrets or URLs in its messages', () => {
    const problems = problemsOf({ JWT_SECRET: 'short-secret-value', DATABASE_URL: 'mysql://user:hunter2@db/x' });
    expect(problems.join('\n')).not.toMatch(/short-secret-value|hunter2/);
  });

  it('treats empty values as unset', () => {
    const env = parseEnv({ REDIS_URL: '', PORT: '' });
    expect(env.PORT).toBe(3000);
    expect(env.REDIS_URL).toBeUndefined();
  });

  it('parses lists, sizes and booleans', () => {
    const env = parseEnv({
      CORS_ORIGINS: 'https://a.example.com, http://localhost:5173',
      TRUSTED_PROXIES: '10.0.0.0/8,::1,loopback',
      BODY_LIMIT: '512kb',
      MIGRATIONS_RUN: 'false',
    });
    expect(env.CORS_ORIGINS).toEqual(['https://a.example.com', 'http://localhost:5173']);
    expect(env.TRUSTED_PROXIES).toEqual(['10.0.0.0/8', '::1', 'loopback']);
    expect(env.BODY_LIMIT).toBe(512 * 1024);
    expect(env.MIGRATIONS_RUN).toBe(false);
  });

  it('requires the secrets from the environment in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual([
      expect.stringMatching(/^JWT_SECRET is required when NODE_ENV=production/),
      expect.stringMatching(/^MASTER_KEY is required when NODE_ENV=production/),
    ]);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'c2hvcnQ', MASTER_KEY: 'c2hvcnQ' })[0]).toMatch(
      /JWT_SECRET must be at least 32 random bytes/,
    );
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: key, MASTER_KEY: key })).toEqual([]);
  });

  it('generates secrets once outside production and keeps them under DATA_DIR', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-config-'));
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });
    expect(first.secrets.source).toBe('data-dir');
    expect(first.secrets.jwtSecret.length).toBe(32);
    expect(first.secrets.masterKey.length).toBe(32);
    expect(second.secrets.jwtSecret.equals(first.secrets.jwtSecret)).toBe(true);
    expect(second.secrets.masterKey.equals(first.secrets.masterKey)).toBe(true);
    const file = join(dir, 'secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual(['jwtSecret', 'masterKey']);
  });

  it('uses secrets from the environment when given, without writing a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-config-'));
    const key = Buffer.alloc(32, 9).toString('base64url');
    const config = loadConfig({ DATA_DIR: dir, JWT_SECRET: key, MASTER_KEY: key });
    expect(config.secrets.source).toBe('environment');
    expect(() => statSync(join(dir, 'secrets.json'))).toThrow();
  });

  it('chooses the runtime mode from DATABASE_URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-config-'));
    expect(loadConfig({ DATA_DIR: dir }).mode).toBe('embedded');
    expect(loadConfig({ DATA_DIR: dir, DATABASE_URL: 'postgres://localhost/bastion' }).mode).toBe('cluster');
  });
});
