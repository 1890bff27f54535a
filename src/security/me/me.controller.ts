import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../../common/pagination/pagination';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { AllowExpiredPassword, AllowMfaEnrolment } from '../auth/auth.guard';
import { AuthService } from '../auth/auth.service';
import { ChangePasswordDto } from '../auth/dto/auth.dto';
import type { Principal } from '../auth/principal';
import { Authenticated, CurrentPrincipal, SessionOnly } from '../rbac/authenticated.decorator';
import { MeDto, RevokedSessionsDto, UpdateProfileDto } from '../users-admin/dto/user.dto';
import { AccountService } from './account.service';
import { ActivityPageDto, mapActivity, mapSession, SessionListDto } from './me.dto';

@ApiTags('me')
@Authenticated()
@SessionOnly()
@Controller({ path: 'me', version: '1' })
export class MeController {
  constructor(
    private readonly account: AccountService,
    private readonly auth: AuthService,
  ) {}

  @Get()
  @AllowExpiredPassword()
  @AllowMfaEnrolment()
  @ApiOperation({ summary: 'My profile, roles, groups and effective permissions' })
  @ApiOkResponse({ type: MeDto })
  me(@CurrentPrincipal() principal: Principal): Promise<MeDto> {
    return this.account.me(principal);
  }

  @Patch()
  @ApiOperation({ summary: 'Update my name' })
  @ApiOkResponse({ type: MeDto })
  @ApiProblems(400)
  update(@CurrentPrincipal() principal: Principal, @Body() body: UpdateProfileDto): Promise<MeDto> {
    return this.account.updateProfile(principal, body);
  }

  @Post('password')
  @HttpCode(204)
  @AllowExpiredPassword()
  @ApiOperation({
    summary: 'Change my password',
    description:
      'Needs the current password. The new one must satisfy the policy (every broken rule is listed) and differ from the last 5. Ends all my other sessions.',
  })
  @ApiNoContentResponse({ description: 'Changed.' })
  @ApiProblems(400)
  async changePassword(@CurrentPrincipal() principal: Principal, @Body() body: ChangePasswordDto): Promise<void> {
    await this.auth.changePassword(principal.userId, principal.sessionId, body.currentPassword, body.newPassword);
  }

  @Get('sessions')
  @ApiOperation({ summary: 'My active sessions' })
  @ApiOkResponse({ type: SessionListDto })
  async sessions(@CurrentPrincipal() principal: Principal): Promise<SessionListDto> {
    return { items: (await this.account.listSessions(principal)).map((s) => mapSession(s, principal.sessionId)) };
  }

  @Delete('sessions')
  @ApiOperation({ summary: 'End all my other sessions', description: 'The session making the request stays.' })
  @ApiOkResponse({ type: RevokedSessionsDto })
  async endOthers(@CurrentPrincipal() principal: Principal): Promise<RevokedSessionsDto> {
    return { revoked: await this.account.endOtherSessions(principal) };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'End one of my sessions' })
  @ApiNoContentResponse({ description: 'Ended.' })
  @ApiProblems(400, 404)
  async endOne(@CurrentPrincipal() principal: Principal, @Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.account.endSession(principal, id);
  }

  @Get('activity')
  @ApiOperation({ summary: 'My activity: sign-ins, failures, changes', description: 'Newest first.' })
  @ApiOkResponse({ type: ActivityPageDto })
  @ApiProblems(400)
  async activity(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto): Promise<ActivityPageDto> {
    const page = await this.account.activityOf(principal, query);
    return { items: page.items.map(mapActivity), nextCursor: page.nextCursor };
  }
}
