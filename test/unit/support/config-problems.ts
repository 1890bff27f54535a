import { ConfigError, parseEnv } from '../../../src/common/config/app-config';

/** The problems parseEnv reports for this environment; empty when it is valid. */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    parseEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
