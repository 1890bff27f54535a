import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import { NotificationsService } from '../notifications/notifications.service';
import { AlertsService } from './alerts.service';
import {
  AlertDto,
  AlertNoteDto,
  AlertPageDto,
  CreateSilenceDto,
  DeliveryListDto,
  ListAlertsQueryDto,
  ListSilencesQueryDto,
  mapAlert,
  mapDelivery,
  mapSilence,
  SilenceDto,
  SilenceListDto,
} from './dto/alert.dto';

@ApiTags('monitoring')
@Controller({ path: 'monitoring', version: '1' })
export class AlertsController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly notifications: NotificationsService,
  ) {}

  @Get('alerts')
  @Authenticated('monitoring:read')
  @ApiOperation({
    summary: 'Alerts, current and past',
    description: 'Newest first; filter by state, level, rule and start time.',
  })
  @ApiOkResponse({ type: AlertPageDto })
  @ApiProblems(400)
  async list(@Query() query: ListAlertsQueryDto): Promise<AlertPageDto> {
    const page = await this.alerts.list(query);
    return { items: page.items.map(mapAlert), nextCursor: page.nextCursor };
  }

  @Get('alerts/:id')
  @Authenticated('monitoring:read')
  @ApiOperation({
    summary: 'Read an alert',
    description: 'One alert with its state, labels, value and lifecycle times.',
  })
  @ApiOkResponse({ type: AlertDto })
  @ApiProblems(400, 404)
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<AlertDto> {
    return mapAlert(await this.alerts.get(id));
  }

  @Get('alerts/:id/notifications')
  @Authenticated('monitoring:read')
  @ApiOperation({
    summary: 'Notifications of an alert',
    description: 'Each webhook or email delivery with its status and attempts; `suppressed` when a silence muted it.',
  })
  @ApiOkResponse({ type: DeliveryListDto })
  @ApiProblems(400, 404)
  async deliveries(@Param('id', new ParseUUIDPipe()) id: string): Promise<DeliveryListDto> {
    await this.alerts.get(id);
    return { items: (await this.notifications.deliveries(id)).map(mapDelivery) };
  }

  @Post('alerts/:id/acknowledge')
  @HttpCode(200)
  @Authenticated('alerts:manage')
  @ApiOperation({
    summary: 'Acknowledge a firing alert',
    description: 'Records who and when, with an optional note; the alert keeps firing but sends no reminders. Audited.',
  })
  @ApiOkResponse({ type: AlertDto })
  @ApiProblems(400, 404, 409)
  async acknowledge(
    @CurrentPrincipal() p: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: AlertNoteDto,
  ): Promise<AlertDto> {
    return mapAlert(await this.alerts.acknowledge(id, p.userId, body.note));
  }

  @Post('alerts/:id/resolve')
  @HttpCode(200)
  @Authenticated('alerts:manage')
  @ApiOperation({
    summary: 'Resolve an alert by hand',
    description:
      'Sends the resolve notification if it had fired. If the condition still holds, a new alert opens at the next evaluation. Audited.',
  })
  @ApiOkResponse({ type: AlertDto })
  @ApiProblems(400, 404, 409)
  async resolve(
    @CurrentPrincipal() p: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: AlertNoteDto,
  ): Promise<AlertDto> {
    return mapAlert(await this.alerts.resolve(id, p.userId, body.note));
  }

  @Get('silences')
  @Authenticated('monitoring:read')
  @ApiOperation({ summary: 'List silences', description: 'Current and future ones; `includeExpired=true` for all.' })
  @ApiOkResponse({ type: SilenceListDto })
  @ApiProblems(400)
  async silences(@Query() query: ListSilencesQueryDto): Promise<SilenceListDto> {
    const now = new Date();
    return { items: (await this.alerts.listSilences(query.includeExpired ?? false)).map((s) => mapSilence(s, now)) };
  }

  @Post('silences')
  @Authenticated('alerts:manage')
  @ApiOperation({
    summary: 'Create a silence',
    description:
      'Mutes notifications (not alerts) whose labels match every matcher, between startsAt and endsAt. Audited.',
  })
  @ApiCreatedResponse({ type: SilenceDto })
  @ApiProblems(400)
  async createSilence(@CurrentPrincipal() p: Principal, @Body() body: CreateSilenceDto): Promise<SilenceDto> {
    return mapSilence(await this.alerts.createSilence(body, p.userId));
  }

  @Delete('silences/:id')
  @HttpCode(204)
  @Authenticated('alerts:manage')
  @ApiOperation({ summary: 'Expire a silence', description: 'It ends now and stays in the history. Audited.' })
  @ApiNoContentResponse({ description: 'Expired.' })
  @ApiProblems(400, 404)
  async expireSilence(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.alerts.expireSilence(id);
  }
}
