import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/http/public.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { Authenticated, CurrentPrincipal } from '../rbac/authenticated.decorator';
import { SessionsService } from '../sessions/sessions.service';
import { mapUser, UserDto } from '../users-admin/dto/user.dto';
import { AuthService } from './auth.service';
import { AllowExpiredPassword } from './auth.guard';
import { LoginDto, RefreshDto, RegisterDto, TokenPairDto } from './dto/auth.dto';
import type { Principal } from './principal';

@ApiTags('auth')
@Controller({ path: 'auth', version: '1' })
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
  ) {}

  @Public()
  @Post('register')
  @ApiOperation({
    summary: 'Create an account (self-registration)',
    description:
      'Depends on REGISTRATION_MODE: `open` creates an active viewer, `approval` a pending one an administrator must activate, `closed` answers 403. Roles, status and any other field cannot be set here (400).',
  })
  @ApiCreatedResponse({ type: UserDto })
  @ApiProblems(400, 403, 409)
  async register(@Body() body: RegisterDto): Promise<UserDto> {
    return mapUser(await this.auth.register(body));
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in with email and password',
    description:
      'Returns an access token (15 minutes by default) and a single-use refresh token. Every failure (unknown email, wrong password, locked, suspended or inactive account) gets the same 401 INVALID_CREDENTIALS. Five consecutive failures lock the account for 1 minute, doubling up to 15.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, 401)
  login(@Body() body: LoginDto): Promise<TokenPairDto> {
    return this.auth.login(body.email, body.password);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Exchange a refresh token for a new pair',
    description:
      'Rotates the pair. Presenting an already-used refresh token ends the whole session (theft detection), except within a short grace window (10 s) in which concurrent refreshes from one client get the same new pair.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, 401)
  refresh(@Body() body: RefreshDto): Promise<TokenPairDto> {
    return this.sessions.refresh(body.refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @Authenticated()
  @AllowExpiredPassword()
  @ApiOperation({
    summary: 'End the current session',
    description: 'Its access and refresh tokens stop working at once.',
  })
  @ApiNoContentResponse({ description: 'Signed out.' })
  async logout(@CurrentPrincipal() principal: Principal): Promise<void> {
    if (principal.sessionId) await this.auth.logout(principal.userId, principal.sessionId);
  }
}
