import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Threat detection asks, on every sign-in, whether the user signed in before from the same IP and
 * user agent. Without this index that read every sign-in the user ever made (a trading bot that
 * signs in hourly has thousands); with it, two index probes that stop at the first match.
 */
export class LoginDeviceIndex1796200000000 implements MigrationInterface {
  name = 'LoginDeviceIndex1796200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX user_activities_login_device_idx ON user_activities (user_id, ip, user_agent) WHERE type = 'login'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX user_activities_login_device_idx');
  }
}
