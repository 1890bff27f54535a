import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { OptionalAuthentication } from '../../common/http/optional-auth.decorator';
import { Public } from '../../common/http/public.decorator';
import { StatusDto } from './dto/status.dto';
import { mayReadFigures, StatusService } from './status.service';

@ApiTags('system')
@Public()
@Controller({ path: 'status', version: '1' })
export class StatusController {
  constructor(private readonly statusService: StatusService) {}

  @Get()
  @OptionalAuthentication()
  @ApiOperation({
    summary: 'State of this instance; version, uptime, mode and database for `metrics:read`',
    description:
      'Anonymous callers get only `status`. Callers with `metrics:read` (bearer token or API key) also get the ' +
      'Bastion, PostgreSQL and Node.js versions, uptime and runtime mode.',
  })
  @ApiOkResponse({ type: StatusDto })
  status(@Req() req: Request): Promise<StatusDto> {
    return this.statusService.status(mayReadFigures(req));
  }
}
