import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/http/public.decorator';
import { StatusDto } from '../dto/status.dto';
import { StatusService } from '../services/status.service';

@ApiTags('system')
@Public()
@Controller({ path: 'status', version: '1' })
export class StatusController {
  constructor(private readonly statusService: StatusService) {}

  @Get()
  @ApiOperation({ summary: 'Version, uptime, runtime mode and database of this instance' })
  @ApiOkResponse({ type: StatusDto })
  status(): Promise<StatusDto> {
    return this.statusService.status();
  }
}
