import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { ApiKey } from './api-keys/api-key.entity';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { ApiKeysRepository } from './api-keys/api-keys.repository';
import { ApiKeysService } from './api-keys/api-keys.service';
import { AuditModule } from './audit/audit.module';
import { IpFilterMiddleware } from './ip-rules/ip-filter.middleware';
import { IpRule } from './ip-rules/ip-rule.entity';
import { IpRulesController } from './ip-rules/ip-rules.controller';
import { IpRulesRepository } from './ip-rules/ip-rules.repository';
import { IpRulesService } from './ip-rules/ip-rules.service';
import { RateLimitService } from './rate-limit/rate-limit.service';
import { SecurityEvent } from './threats/security-event.entity';
import { SecurityEventsController } from './threats/security-events.controller';
import { SecurityEventsRepository } from './threats/security-events.repository';
import { SecurityEventsService } from './threats/security-events.service';
import { ThreatDetectionService } from './threats/threat-detection.service';
import { ThreatWindows } from './threats/threat-windows';
import { AuthController } from './auth/auth.controller';
import { AuthGuard } from './auth/auth.guard';
import { PrincipalsService } from './auth/principals.service';
import { AuthService } from './auth/auth.service';
import { BootstrapAdminService } from './bootstrap/bootstrap-admin.service';
import { Credential } from './credentials/credential.entity';
import { CredentialsRepository } from './credentials/credentials.repository';
import { CredentialsService } from './credentials/credentials.service';
import { FailedSignInsService } from './credentials/failed-sign-ins.service';
import { EncryptionService, encryptionProviders } from './crypto/encryption.service';
import { KeyMaterialService } from './keys/key-material.service';
import { KeyRotationCron } from './keys/key-rotation.cron';
import { KeyUsageService } from './keys/key-usage.service';
import { KeysController } from './keys/keys.controller';
import { KeysRepository } from './keys/keys.repository';
import { KeysService } from './keys/keys.service';
import { MasterKeyService } from './keys/master-key.service';
import { PasswordHistory } from './credentials/password-history.entity';
import { AccountRepository } from './me/account.repository';
import { AccountService } from './me/account.service';
import { MeController } from './me/me.controller';
import { MfaController } from './mfa/mfa.controller';
import { MfaRepository } from './mfa/mfa.repository';
import { MfaService } from './mfa/mfa.service';
import { RolesController } from './rbac/roles.controller';
import { Session } from './sessions/session.entity';
import { SessionsRepository } from './sessions/sessions.repository';
import { ApiKeyStrategy } from './auth/strategies/api-key.strategy';
import { JwtStrategy } from './auth/strategies/jwt.strategy';
import { AppPassport } from './auth/strategies/passport';
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
  imports: [
    UsersModule,
    AuditModule,
    TypeOrmModule.forFeature([Credential, PasswordHistory, Session, ApiKey, IpRule, SecurityEvent]),
  ],
  controllers: [
    AuthController,
    MeController,
    MfaController,
    UsersController,
    GroupsController,
    RolesController,
    ApiKeysController,
    IpRulesController,
    SecurityEventsController,
    KeysController,
  ],
  providers: [
    TokenService,
    CredentialsRepository,
    CredentialsService,
    FailedSignInsService,
    SessionsRepository,
    SessionsService,
    AuthService,
    AccountService,
    AccountRepository,
    UserAdminService,
    GroupAdminService,
    BootstrapAdminService,
    ApiKeysRepository,
    ApiKeysService,
    IpRulesService,
    IpRulesRepository,
    RateLimitService,
    SecurityEventsService,
    SecurityEventsRepository,
    ThreatDetectionService,
    ThreatWindows,
    KeysRepository,
    KeyUsageService,
    KeyMaterialService,
    ...encryptionProviders,
    KeysService,
    MasterKeyService,
    KeyRotationCron,
    MfaService,
    MfaRepository,
    PrincipalsService,
    AppPassport,
    JwtStrategy,
    ApiKeyStrategy,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [
    AuditModule,
    SessionsService,
    TokenService,
    BootstrapAdminService,
    EncryptionService,
    KeysService,
    KeyUsageService,
    MasterKeyService,
    MfaService,
    ApiKeysService,
    SecurityEventsService,
    // For the live gateway: handshakes and sockets follow the same rules as requests.
    PrincipalsService,
    IpRulesService,
    RateLimitService,
  ],
})
export class SecurityModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // IP rules and the per-IP limit apply to everything but the liveness and readiness probes.
    consumer
      .apply(IpFilterMiddleware)
      .exclude({ path: 'health/{*splat}', method: RequestMethod.ALL })
      .forRoutes('{*splat}');
  }
}
