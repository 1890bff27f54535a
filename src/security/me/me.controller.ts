import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../../common/pagination/pagination';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { AllowExpiredPassword, AllowMfaEnrolment } from '../auth/auth.guard';
import { AuthService } from '../auth/auth.service';
import { ChangePasswordDto } from '../auth/dto/auth.dto';
import type { Principal } from '../auth/principal';
import { Authenticated, CurrentPrincipal, SessionOnly } from '../rbac/authenticated.decorator';
import { MeDto, UpdateProfileDto } from '../users-admin/dto/user.dto';
import { AccountService } from './account.service';
import {
  ActivityPageDto,
  mapActivity,
  mapSession,
  PasswordChangedDto,
  SessionListDto,
  SignedOutEverywhereDto,
  SignOutEverywhereQueryDto,
} from './me.dto';

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
  @ApiOperation({
    summary: 'My profile, roles, groups and effective permissions',
    description:
      'Who is calling: profile, roles, groups and the effective permissions (role and group grants combined; for an API key, its scopes). Needs only a valid token or key.',
  })
  @ApiOkResponse({ type: MeDto })
  me(@CurrentPrincipal() principal: Principal): Promise<MeDto> {
    return this.account.me(principal);
  }

  @Patch()
  @ApiOperation({
    summary: 'Update my name',
    description:
      "Changes the caller's first and last name; the change is audited. Email, roles and status are changed by an administrator.",
  })
  @ApiOkResponse({ type: MeDto })
  @ApiProblems(400)
  update(@CurrentPrincipal() principal: Principal, @Body() body: UpdateProfileDto): Promise<MeDto> {
    return this.account.updateProfile(principal, body);
  }

  @Post('password')
  @HttpCode(200)
  @AllowExpiredPassword()
  @ApiOperation({
    summary: 'Change my password',
    description:
      'Needs the current password: a wrong one answers 400 and counts towards the lockout like a failed sign-in. The new one must satisfy the policy (every broken rule is listed) and differ from the last 5. Ends all my other sessions; with `revokeApiKeys: true` also revokes every API key of mine, listed in the answer.',
  })
  @ApiOkResponse({ type: PasswordChangedDto })
  @ApiProblems(400)
  changePassword(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ChangePasswordDto,
  ): Promise<PasswordChangedDto> {
    return this.auth.changePassword(
      principal.userId,
      principal.sessionId,
      body.currentPassword,
      body.newPassword,
      body.revokeApiKeys === true,
    );
  }

  @Get('sessions')
  @ApiOperation({
    summary: 'My active sessions',
    description: "The caller's signed-in sessions, with the one making this request marked `current`.",
  })
  @ApiOkResponse({ type: SessionListDto })
  async sessions(@CurrentPrincipal() principal: Principal): Promise<SessionListDto> {
    return { items: (await this.account.listSessions(principal)).map((s) => mapSession(s, principal.sessionId)) };
  }

  @Delete('sessions')
  @ApiOperation({
    summary: 'Sign out everywhere else',
    description:
      'Ends all my other sessions; the session making the request stays. With `revokeApiKeys=true` also revokes every API key of mine, listed in the answer.',
  })
  @ApiOkResponse({ type: SignedOutEverywhereDto })
  @ApiProblems(400)
  endOthers(
    @CurrentPrincipal() principal: Principal,
    @Query() query: SignOutEverywhereQueryDto,
  ): Promise<SignedOutEverywhereDto> {
    return this.account.endOtherSessions(principal, query.revokeApiKeys === true);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'End one of my sessions',
    description:
      "Revokes one of the caller's sessions: its refresh token stops working at once and its access tokens are refused. 404 when the session is not the caller's.",
  })
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
