import type { LoggerService } from '@nestjs/common';

const LEVELS = { fatal: 60, error: 50, warn: 40, log: 30, debug: 20, verbose: 10 } as const;

/**
 * Nest's logger until the application's pino logger takes over: the same JSON lines (level,
 * time, context, msg) instead of Nest's coloured console output, so that start-up lines (database
 * connection attempts, failures) are as machine-readable as every later line.
 */
export class BootLogger implements LoggerService {
  log(message: unknown, context?: string): void {
    this.write('log', message, context);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write(
      'error',
      message,
      typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined,
    );
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }
  debug(): void {
    // start-up debug output is not kept
  }
  verbose(): void {
    // start-up verbose output is not kept
  }

  private write(level: keyof typeof LEVELS, message: unknown, context?: string): void {
    const msg =
      message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    process.stdout.write(
      `${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, ...(context ? { context } : {}), msg })}\n`,
    );
  }
}
