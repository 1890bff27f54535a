import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { Trim } from '../../../common/validation/trim.decorator';

export class LoginDto {
  @ApiProperty({
    example: 'jane.doe@example.com',
    description: 'Not validated as an address: `admin@localhost` (the embedded-mode first admin) must sign in too.',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple', format: 'password' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password!: string;
}

export class RegisterDto {
  @ApiProperty({ example: 'jane.doe@example.com', maxLength: 254 })
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({
    example: 'correct horse battery staple',
    format: 'password',
    description: '12 to 128 characters; not a common password; must not contain your name or email.',
  })
  @IsString()
  @MaxLength(1024)
  password!: string;

  @ApiProperty({ example: 'Jane', maxLength: 100 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  firstName!: string;

  @ApiProperty({ example: 'Doe', maxLength: 100 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  lastName!: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from login or the previous refresh.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  refreshToken!: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'JWT to send as `Authorization: Bearer <accessToken>`.' })
  accessToken!: string;

  @ApiProperty({
    description: 'Opaque; exchange at POST /api/v1/auth/refresh. Single use: each refresh returns a new one.',
  })
  refreshToken!: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({ example: 900, description: 'Seconds until the access token expires.' })
  expiresIn!: number;
}

export class ChangePasswordDto {
  @ApiProperty({ format: 'password' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  currentPassword!: string;

  @ApiProperty({
    format: 'password',
    description: 'Must satisfy the password policy and differ from the last 5 passwords.',
  })
  @IsString()
  @MaxLength(1024)
  newPassword!: string;

  @ApiPropertyOptional({
    default: false,
    description: 'Also revoke every API key of mine (listed in the answer), e.g. after a suspected compromise.',
  })
  @IsOptional()
  @IsBoolean()
  revokeApiKeys?: boolean;
}
