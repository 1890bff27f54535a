import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import {
  CreateReportScheduleDto,
  mapSchedule,
  ReportScheduleDto,
  UpdateReportScheduleDto,
} from '../dto/report-schedule.dto';
import { mapRun, ReportRunDto } from '../dto/report.dto';
import { ReportSchedulesService } from './report-schedules.service';

@ApiTags('report-schedules')
@Controller({ path: 'report-schedules', version: '1' })
export class ReportSchedulesController {
  constructor(private readonly schedules: ReportSchedulesService) {}

  @Get()
  @Authenticated('report-schedules:manage')
  @ApiOperation({ summary: 'List your report schedules', description: 'With their next run times.' })
  @ApiOkResponse({ type: [ReportScheduleDto] })
  async list(@CurrentPrincipal() principal: Principal): Promise<ReportScheduleDto[]> {
    return (await this.schedules.list(principal)).map((s) => mapSchedule(s, this.schedules.nextRunTimes(s)));
  }

  @Post()
  @Authenticated('report-schedules:manage')
  @ApiOperation({
    summary: 'Schedule a report',
    description:
      'Daily to yearly at a local time, or cron, in a time zone; delivered by email and webhook. Runs with your permissions at the time. Audited.',
  })
  @ApiCreatedResponse({ type: ReportScheduleDto })
  @ApiProblems(400, 404, 503)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateReportScheduleDto,
  ): Promise<ReportScheduleDto> {
    const s = await this.schedules.create(principal, body);
    return mapSchedule(s, this.schedules.nextRunTimes(s));
  }

  @Patch(':id')
  @Authenticated('report-schedules:manage')
  @ApiOperation({
    summary: 'Pause or resume a schedule',
    description: 'Enables or disables a schedule; a resumed schedule runs at its next cron time. Audited.',
  })
  @ApiOkResponse({ type: ReportScheduleDto })
  @ApiProblems(400, 404)
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: UpdateReportScheduleDto,
  ): Promise<ReportScheduleDto> {
    const s = await this.schedules.setStatus(principal, id, body.status);
    return mapSchedule(s, this.schedules.nextRunTimes(s));
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated('report-schedules:manage')
  @ApiOperation({
    summary: 'Delete a schedule',
    description: 'Deletes the schedule; reports it already produced are kept. Audited.',
  })
  @ApiNoContentResponse()
  @ApiProblems(404)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.schedules.remove(principal, id);
  }

  @Post(':id/run')
  @HttpCode(202)
  @Authenticated('report-schedules:manage')
  @ApiOperation({ summary: 'Run a schedule now', description: 'Queues a run delivered like a scheduled one.' })
  @ApiAcceptedResponse({ type: ReportRunDto })
  @ApiProblems(404)
  async runNow(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ReportRunDto> {
    return mapRun(await this.schedules.runNow(principal, id));
  }
}
