import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Public } from '../../common/http/public.decorator';
import { StrictRateLimit } from '../rate-limit/rate-limit.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { MfaChallengeDto, MfaVerifyDto } from '../mfa/dto/mfa.dto';
import { Authenticated, CurrentPrincipal, SessionOnly } from '../rbac/authenticated.decorator';
import { SessionsService } from '../sessions/sessions.service';
import { mapUser, UserDto } from '../users-admin/dto/user.dto';
import { AuthService } from './auth.service';
import { AllowExpiredPassword, AllowMfaEnrolment } from './auth.guard';
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
  @StrictRateLimit()
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
  @StrictRateLimit()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in with email and password',
    description:
      'Returns an access token (15 minutes by default) and a single-use refresh token. For a user with MFA active, the right password returns `{mfaRequired: true, mfaToken, expiresIn}` instead: finish with POST /api/v1/auth/mfa/verify. Every failure (unknown email, wrong password, locked, suspended or inactive account) gets the same 401 INVALID_CREDENTIALS. Five consecutive failures (wrong passwords and wrong MFA codes together) lock the account for 1 minute, doubling up to 15.',
  })
  @ApiExtraModels(TokenPairDto, MfaChallengeDto)
  @ApiOkResponse({
    description: 'Signed in (a token pair), or the password was right and a second factor is needed (a challenge).',
    schema: { oneOf: [{ $ref: getSchemaPath(TokenPairDto) }, { $ref: getSchemaPath(MfaChallengeDto) }] },
  })
  @ApiProblems(400, 401)
  login(@Body() body: LoginDto): Promise<TokenPairDto | MfaChallengeDto> {
    return this.auth.loginEvenly(body.email, body.password);
  }

  @Public()
  @StrictRateLimit()
  @Post('mfa/verify')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Finish a sign-in with a TOTP or recovery code',
    description:
      'Takes the mfaToken of POST /api/v1/auth/login (single use, 5 minutes) and a current TOTP code (one step of clock drift accepted; each code works once) or an unused recovery code. A wrong or replayed code gets 401 INVALID_MFA_CODE with `attemptsRemaining`, and counts towards the account lockout; after 5 wrong codes the mfaToken is burnt. An unknown, expired, used or burnt mfaToken, or an account locked or deactivated meanwhile, gets 401 INVALID_TOKEN: sign in again.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, 401)
  verifyMfa(@Body() body: MfaVerifyDto): Promise<TokenPairDto> {
    return this.auth.verifyMfa(body.mfaToken, body.code);
  }

  @Public()
  @StrictRateLimit()
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
  @SessionOnly()
  @AllowExpiredPassword()
  @AllowMfaEnrolment()
  @ApiOperation({
    summary: 'End the current session',
    description: 'Its access and refresh tokens stop working at once.',
  })
  @ApiNoContentResponse({ description: 'Signed out.' })
  async logout(@CurrentPrincipal() principal: Principal): Promise<void> {
    if (principal.sessionId) await this.auth.logout(principal.userId, principal.sessionId);
  }
}
