import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { Authenticated } from '../rbac/authenticated.decorator';
import { AuditService } from './audit.service';
import { AuditEventQueryDto } from './dto/audit-event-query.dto';
import { AuditEventPageDto } from './dto/audit-event.dto';
import { AuditVerificationDto } from './dto/audit-verification.dto';

@ApiTags('audit')
@Controller({ path: 'audit-events', version: '1' })
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Authenticated('audit:read')
  @ApiOperation({
    summary: 'Search the audit log',
    description: 'Newest first. Filters combine with AND; page with `limit` and the `nextCursor` of the previous page.',
  })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiProblems(400)
  list(@Query() query: AuditEventQueryDto): Promise<AuditEventPageDto> {
    return this.audit.list(query);
  }

  @Get('verify')
  @Authenticated('audit:verify')
  @ApiOperation({
    summary: 'Verify the hash chain of the audit log',
    description:
      'Recomputes every entry’s hash in order, checks each link to its predecessor and that the chain ends at the recorded head. ' +
      'Answers 200 either way: `valid` is the verdict and `firstInvalid` names where the chain breaks.',
  })
  @ApiOkResponse({ type: AuditVerificationDto })
  verify(): Promise<AuditVerificationDto> {
    return this.audit.verify();
  }
}
