import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { AllowMfaEnrolment } from '../auth/auth.guard';
import type { Principal } from '../auth/principal';
import { Authenticated, CurrentPrincipal, SessionOnly } from '../rbac/authenticated.decorator';
import { DisableTotpDto, MfaStatusDto, RecoveryCodesDto, TotpCodeDto, TotpEnrolmentDto } from './dto/mfa.dto';
import { MfaService } from './mfa.service';

@ApiTags('me')
@Authenticated()
@SessionOnly()
@Controller({ path: 'me/mfa', version: '1' })
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @Get()
  @AllowMfaEnrolment()
  @ApiOperation({
    summary: 'My MFA status',
    description:
      'Whether TOTP is active, since when, how many recovery codes are left, and whether my roles require MFA.',
  })
  @ApiOkResponse({ type: MfaStatusDto })
  async status(@CurrentPrincipal() principal: Principal): Promise<MfaStatusDto> {
    const s = await this.mfa.status(principal);
    return { ...s, enrolledAt: s.enrolledAt?.toISOString() ?? null };
  }

  @Post('totp')
  @AllowMfaEnrolment()
  @ApiOperation({
    summary: 'Start TOTP enrolment',
    description:
      'Issues a new secret (SHA-1, 6 digits, 30 s) as base32, an otpauth:// URL and a QR code for an authenticator app. Nothing changes at sign-in until POST /api/v1/me/mfa/totp/activate confirms a code; enrolling again before that replaces the secret. 409 MFA_ALREADY_ENABLED while MFA is active. Not available to API keys.',
  })
  @ApiCreatedResponse({ type: TotpEnrolmentDto })
  @ApiProblems(409)
  enrol(@CurrentPrincipal() principal: Principal): Promise<TotpEnrolmentDto> {
    return this.mfa.enrol(principal);
  }

  @Post('totp/activate')
  @HttpCode(200)
  @AllowMfaEnrolment()
  @ApiOperation({
    summary: 'Activate TOTP with a first code',
    description:
      'Needs a valid code of the pending secret (one step of clock drift is accepted). Returns ten single-use recovery codes, shown only in this response. From then on, signing in needs a code. A wrong code gets 400 VALIDATION_FAILED on `code`.',
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiProblems(400, 409)
  async activate(@CurrentPrincipal() principal: Principal, @Body() body: TotpCodeDto): Promise<RecoveryCodesDto> {
    return { recoveryCodes: await this.mfa.activate(principal, body.code) };
  }

  @Delete('totp')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Turn TOTP off',
    description:
      'Needs the current password and a TOTP code or an unused recovery code (400 VALIDATION_FAILED naming the wrong one). Removes the secret and every recovery code. 404 when MFA is not active.',
  })
  @ApiNoContentResponse({ description: 'MFA is off.' })
  @ApiProblems(400, 404)
  async disable(@CurrentPrincipal() principal: Principal, @Body() body: DisableTotpDto): Promise<void> {
    await this.mfa.disable(principal, body.password, body.code);
  }
}
