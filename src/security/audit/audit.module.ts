import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditChainHead } from './audit-chain-head.entity';
import { AuditEvent } from './audit-event.entity';
import { AuditController } from './audit.controller';
import { auditChainKeyProviders } from './audit-chain-keys';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/** The tamper-evident audit log: `AuditService` for every module that records, and its HTTP API. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent, AuditChainHead])],
  controllers: [AuditController],
  providers: [...auditChainKeyProviders, AuditRepository, AuditService],
  exports: [AuditService],
})
export class AuditModule {}
