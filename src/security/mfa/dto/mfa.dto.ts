import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class TotpEnrolmentDto {
  @ApiProperty({
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    description: 'Base32 secret (160 bits), for typing into an authenticator app. Shown only now.',
  })
  secret!: string;

  @ApiProperty({
    example:
      'otpauth://totp/Bastion:jane.doe%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Bastion&algorithm=SHA1&digits=6&period=30',
    description: 'Key URI (SHA-1, 6 digits, 30 s) for apps that take a link.',
  })
  otpauthUrl!: string;

  @ApiProperty({ example: 'data:image/png;base64,iVBORw0KGgo…', description: 'The otpauthUrl as a PNG QR code.' })
  qrCode!: string;
}

export class TotpCodeDto {
  @ApiProperty({ example: '123456', description: 'The current 6-digit code from the authenticator app.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(32)
  code!: string;
}

export class RecoveryCodesDto {
  @ApiProperty({
    type: [String],
    example: ['7KQ2-M9XD-4HRT', 'P3WZ-8NCF-2VLA'],
    description:
      'Ten single-use recovery codes, each usable once instead of a TOTP code. Shown only now: store them safely.',
  })
  recoveryCodes!: string[];
}

export class DisableTotpDto {
  @ApiProperty({ format: 'password', description: 'Your current password.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password!: string;

  @ApiProperty({ example: '123456', description: 'A current TOTP code or an unused recovery code.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(32)
  code!: string;
}

export class MfaStatusDto {
  @ApiProperty({ description: 'Whether TOTP is active: sign-ins need a code.' })
  enabled!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When TOTP was activated.' })
  enrolledAt!: string | null;

  @ApiProperty({ description: 'An enrolment was started and awaits its first code.' })
  pendingEnrolment!: boolean;

  @ApiProperty({ example: 10, description: 'Unused recovery codes (0 when MFA is off).' })
  recoveryCodesRemaining!: number;

  @ApiProperty({ description: 'One of your roles is listed in MFA_REQUIRED_ROLES: MFA is mandatory for you.' })
  required!: boolean;
}

export class MfaVerifyDto {
  @ApiProperty({ description: 'The mfaToken from POST /api/v1/auth/login.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  mfaToken!: string;

  @ApiProperty({
    example: '123456',
    description: 'A TOTP code, or a recovery code (`XXXX-XXXX-XXXX`, case and hyphens optional).',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(32)
  code!: string;
}

export class MfaChallengeDto {
  @ApiProperty({ enum: [true], example: true, description: 'A second factor is needed: see mfaToken.' })
  mfaRequired!: true;

  @ApiProperty({
    description:
      'Opaque, single use: send it with a code to POST /api/v1/auth/mfa/verify within expiresIn seconds (at most 5 wrong codes).',
  })
  mfaToken!: string;

  @ApiProperty({ example: 300, description: 'Seconds until mfaToken expires.' })
  expiresIn!: number;
}
