import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { Authenticated } from '../rbac/authenticated.decorator';
import { ListSecurityEventsQueryDto, mapSecurityEvent, SecurityEventPageDto } from './dto/security-event.dto';
import { SecurityEventsService } from './security-events.service';

@ApiTags('security')
@Controller({ path: 'security/events', version: '1' })
export class SecurityEventsController {
  constructor(private readonly events: SecurityEventsService) {}

  @Get()
  @Authenticated('security-events:read')
  @ApiOperation({
    summary: 'Security events from threat detection',
    description:
      'Brute force, credential stuffing (with an automatic IP block), refresh-token reuse, MFA failures, bursts of 403s, sign-ins from a new device. Newest first.',
  })
  @ApiOkResponse({ type: SecurityEventPageDto })
  @ApiProblems(400)
  async list(@Query() query: ListSecurityEventsQueryDto): Promise<SecurityEventPageDto> {
    const page = await this.events.list(query);
    return { items: page.items.map(mapSecurityEvent), nextCursor: page.nextCursor };
  }
}
