import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort, type ServerProcess, startServer } from './server-process';

export const ROOT = join(__dirname, '..', '..');
export const ADMIN = { email: 'root@example.com', password: 'Correct-Horse-Battery-9' };
/** Rate limits high enough never to refuse: their checks still run, so their cost is measured. */
export const UNLIMITED = String(1_000_000_000);

/**
 * Starts the built app (`dist/src/main.js`) in cluster mode on `dbUrl`, as production runs it:
 * NODE_ENV=production with fresh secrets, the bootstrap admin above, warn-level logs and every rate
 * limit lifted. `env` adds or overrides settings.
 */
export async function startBastion(options: {
  dbUrl: string;
  dataDir: string;
  onSpawn: (s: ServerProcess) => void;
  env?: Record<string, string>;
}): Promise<ServerProcess> {
  const port = await freePort();
  return startServer({
    name: 'Bastion',
    cwd: ROOT,
    args: ['dist/src/main.js'],
    port,
    readyPath: '/health/ready',
    onSpawn: options.onSpawn,
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATA_DIR: options.dataDir,
      DATABASE_URL: options.dbUrl,
      JWT_SECRET: randomBytes(32).toString('base64'),
      MASTER_KEY: randomBytes(32).toString('base64'),
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_IP_PER_MINUTE: UNLIMITED,
      RATE_LIMIT_AUTH_PER_MINUTE: UNLIMITED,
      RATE_LIMIT_USER_PER_MINUTE: UNLIMITED,
      RATE_LIMIT_KEY_TIERS: `standard=${UNLIMITED},elevated=${UNLIMITED},bulk=${UNLIMITED}`,
      ...options.env,
    },
  });
}
