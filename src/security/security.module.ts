import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { AuditModule } from './audit/audit.module';
import { AuthController } from './auth/auth.controller';
import { AuthGuard } from './auth/auth.guard';
import { AuthService } from './auth/auth.service';
import { BootstrapAdminService } from './bootstrap/bootstrap-admin.service';
import { Credential } from './credentials/credential.entity';
import { CredentialsService } from './credentials/credentials.service';
import { PasswordHistory } from './credentials/password-history.entity';
import { AccountService } from './me/account.service';
import { MeController } from './me/me.controller';
import { RolesController } from './rbac/roles.controller';
import { Session } from './sessions/session.entity';
import { SessionsService } from './sessions/sessions.service';
import { TokenService } from './sessions/token.service';
import { GroupAdminService } from './users-admin/group-admin.service';
import { GroupsController } from './users-admin/groups.controller';
import { UserAdminService } from './users-admin/user-admin.service';
import { UsersController } from './users-admin/users.controller';

/**
 * Identity and security: credentials, login, sessions and tokens, the RBAC catalogue and the
 * global guard (deny by default), the audit log, and the HTTP API over users and groups.
 */
@Module({
  imports: [UsersModule, AuditModule, TypeOrmModule.forFeature([Credential, PasswordHistory, Session])],
  controllers: [AuthController, MeController, UsersController, GroupsController, RolesController],
  providers: [
    TokenService,
    CredentialsService,
    SessionsService,
    AuthService,
    AccountService,
    UserAdminService,
    GroupAdminService,
    BootstrapAdminService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AuditModule, SessionsService, TokenService, BootstrapAdminService],
})
export class SecurityModule {}
