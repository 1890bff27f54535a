import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { StartupError } from '../../common/startup/startup-error';
import type { User } from '../../users/users/user.entity';
import { UsersService } from '../../users/users/users.service';
import { AuditService } from '../audit/audit.service';
import { CredentialsService } from '../credentials/credentials.service';

/**
 * The first administrator. When the database holds no user, start-up creates a super_admin from
 * BOOTSTRAP_ADMIN_EMAIL/PASSWORD; in embedded mode with neither set it creates admin@localhost
 * with a random password shown once on the console (never in the logs).
 */
@Injectable()
export class BootstrapAdminService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Bootstrap');
  /** The administrator this start created, if the database was empty. */
  createdOnStart: User | null = null;
  /** The generated password's console message, kept until the server listens (see `announce`). */
  private announcement?: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly credentials: CredentialsService,
    private readonly audit: AuditService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { adminEmail, adminPassword } = this.config.bootstrap;
    if (!adminEmail && !adminPassword && (this.config.mode !== 'embedded' || this.config.env === 'test')) {
      if ((await this.users.count()) === 0) {
        this.logger.warn(
          'the database holds no user: set BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD, or run `npm run cli -- create-admin`',
        );
      }
      return;
    }
    const email = adminEmail ?? 'admin@localhost';
    const generated = adminPassword === undefined;
    const password = adminPassword ?? randomBytes(18).toString('base64url');
    const created = await this.createFirstAdmin(email, password, !generated);
    this.createdOnStart = created;
    if (created && generated) {
      this.announcement = `\n  Bastion created the first administrator (shown once, not logged):\n    email:    ${email}\n    password: ${password}\n  Sign in and change it with POST /api/v1/me/password.\n\n`;
    }
  }

  /**
   * Prints the generated first-admin password, once, after the server listens: a start that fails
   * later (port taken, ...) would otherwise show a password for an instance nobody can reach,
   * and the operator would miss it among the failure's lines. Returns whether it printed.
   */
  announce(url?: string): boolean {
    if (!this.announcement) return false;
    process.stdout.write(
      url ? this.announcement.replace('first administrator', `first administrator of ${url}`) : this.announcement,
    );
    this.announcement = undefined;
    return true;
  }

  /** Creates the super_admin if, under a lock, the database still holds no user. */
  private async createFirstAdmin(email: string, password: string, checkPolicy: boolean): Promise<User | null> {
    return this.dataSource.transaction(async (manager) => {
      await this.users.lockFirstUserCreation(manager);
      if ((await this.users.count(manager)) > 0) return null;
      if (checkPolicy) {
        // BOOTSTRAP_ADMIN_PASSWORD obeys the password policy like every other password.
        await this.credentials.assertAcceptable(password, { email }).catch((err: unknown) => {
          throw err instanceof AppException
            ? new StartupError(
                `BOOTSTRAP_ADMIN_PASSWORD does not meet the password policy: ${err.options.errors?.map((e) => e.message).join('; ') || err.detail}`,
                'BOOTSTRAP_ADMIN_PASSWORD',
                'choose a longer, uncommon password (or leave it unset in embedded mode to have one generated)',
              )
            : err;
        });
      }
      const user = await this.insertSuperAdmin(manager, email, password, 'bootstrap', 'user.bootstrap_admin_created');
      this.logger.log(`created the first super_admin ${user.email}`);
      return user;
    });
  }

  /** For the CLI: a super_admin whatever the database holds; the password must pass the policy. */
  async createAdmin(email: string, password: string): Promise<User> {
    await this.credentials.assertAcceptable(password, { email });
    return this.dataSource.transaction((manager) =>
      this.insertSuperAdmin(manager, email, password, 'cli', 'user.created'),
    );
  }

  private async insertSuperAdmin(
    manager: EntityManager,
    email: string,
    password: string,
    actor: string,
    action: string,
  ): Promise<User> {
    const user = await this.users.create(
      { email, firstName: 'Bastion', lastName: 'Administrator', status: 'active', roles: ['super_admin'] },
      manager,
    );
    await this.credentials.setPassword(user.id, password, manager);
    await this.audit.record(manager, {
      action,
      targetType: 'user',
      targetId: user.id,
      actor: { type: 'system', id: actor },
      details: { email: user.email, roles: user.roles },
    });
    return user;
  }
}
