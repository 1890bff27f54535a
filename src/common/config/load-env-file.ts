import { existsSync } from 'node:fs';

/**
 * Loads `.env` from the working directory, if there is one (Node's own parser). Variables that
 * are already set in the environment win over the file.
 */
export function loadEnvFile(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
