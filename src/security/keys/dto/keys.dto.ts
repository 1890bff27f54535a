import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { PageDto } from '../../../common/pagination/pagination';
import { KEY_OPERATIONS, KEY_TYPES, type KeyOperation, type KeyType } from '../key-primitives';
import type { KeyGrant, KeyRow, KeyVersionRow } from '../keys.repository';
import type { KeyDetail, OperationOutcome, OperationResult, PublicKeyExport } from '../keys.service';

/** Largest base64 field of an operation item: 64 KiB of data. */
const MAX_B64 = 87_384;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64_MESSAGE = 'must be base64';

export class KeyGrantDto {
  @ApiProperty({ enum: ['role', 'group'] })
  @IsIn(['role', 'group'])
  subjectType!: 'role' | 'group';

  @ApiProperty({ example: 'trader', description: 'A role name, or a group id.' })
  @IsString()
  @MaxLength(64)
  subject!: string;
}

export class CreateKeyDto {
  @ApiProperty({ example: 'payments', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
    message: 'name must be 1-64 lower-case letters, digits or ._- (starting with a letter or digit)',
  })
  @Matches(/^(?!bastion-)/, { message: 'names starting with bastion- are reserved for internal keys' })
  name!: string;

  @ApiProperty({ enum: KEY_TYPES })
  @IsIn(KEY_TYPES)
  type!: KeyType;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ description: 'Whether the key may be deleted (default false).' })
  @IsOptional()
  @IsBoolean()
  deletionAllowed?: boolean;

  @ApiPropertyOptional({
    description: 'Whether its public keys may be exported (asymmetric types only; never private keys).',
  })
  @IsOptional()
  @IsBoolean()
  exportable?: boolean;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 3600,
    description: 'Rotate automatically this often (seconds); null: never.',
  })
  @IsOptional()
  @IsInt()
  @Min(3600)
  @Max(10 * 365 * 86400)
  autoRotatePeriodSeconds?: number | null;

  @ApiPropertyOptional({ enum: KEY_OPERATIONS, isArray: true, description: 'Default: everything the type can do.' })
  @IsOptional()
  @IsArray()
  @IsIn(KEY_OPERATIONS, { each: true })
  allowedOperations?: KeyOperation[];

  @ApiPropertyOptional({
    type: [KeyGrantDto],
    description: 'Roles and groups whose members (holding keys:use) may use the key.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => KeyGrantDto)
  grants?: KeyGrantDto[];
}

export class UpdateKeyDto {
  @ApiPropertyOptional({
    minimum: 1,
    description: 'Ciphertexts, signatures and HMACs of older versions are refused (KEY_VERSION_RETIRED).',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  minDecryptionVersion?: number;

  @ApiPropertyOptional({
    minimum: 0,
    description: 'The oldest version that may still encrypt or sign when a caller asks for one (0: any).',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  minEncryptionVersion?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  deletionAllowed?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  exportable?: boolean;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 3600 })
  @IsOptional()
  @IsInt()
  @Min(3600)
  @Max(10 * 365 * 86400)
  autoRotatePeriodSeconds?: number | null;

  @ApiPropertyOptional({ enum: KEY_OPERATIONS, isArray: true })
  @IsOptional()
  @IsArray()
  @IsIn(KEY_OPERATIONS, { each: true })
  allowedOperations?: KeyOperation[];

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ type: [KeyGrantDto], description: 'Replaces the grants.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => KeyGrantDto)
  grants?: KeyGrantDto[];
}

export class KeyVersionDto {
  @ApiProperty()
  version!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ description: 'Id of the master key its material is wrapped by (not the key itself).' })
  masterKeyId!: string;

  @ApiProperty({ description: 'Below minDecryptionVersion: no longer usable.' })
  retired!: boolean;
}

export class KeyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: KEY_TYPES })
  type!: string;

  @ApiProperty({ description: 'Used by Bastion itself (TOTP and other secrets); not usable through the API.' })
  internal!: boolean;

  @ApiProperty()
  description!: string;

  @ApiProperty()
  latestVersion!: number;

  @ApiProperty()
  minDecryptionVersion!: number;

  @ApiProperty()
  minEncryptionVersion!: number;

  @ApiProperty()
  deletionAllowed!: boolean;

  @ApiProperty()
  exportable!: boolean;

  @ApiProperty({ type: Number, nullable: true })
  autoRotatePeriodSeconds!: number | null;

  @ApiProperty({ enum: KEY_OPERATIONS, isArray: true })
  allowedOperations!: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  rotatedAt!: string;
}

export class KeyDetailDto extends KeyDto {
  @ApiProperty({ type: [KeyVersionDto] })
  versions!: KeyVersionDto[];

  @ApiProperty({ type: [KeyGrantDto] })
  grants!: KeyGrantDto[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    nullable: true,
    example: { '1': 3, '2': 40 },
    description:
      'Internal keys: how many stored secrets each version still protects (`legacy`: written before key management). Null where Bastion cannot know (data kept by callers).',
  })
  protectedData!: Record<string, number> | null;
}

export function mapKey(k: KeyRow): KeyDto {
  return {
    id: k.id,
    name: k.name,
    type: k.type,
    internal: k.internal,
    description: k.description,
    latestVersion: k.latestVersion,
    minDecryptionVersion: k.minDecryptionVersion,
    minEncryptionVersion: k.minEncryptionVersion,
    deletionAllowed: k.deletionAllowed,
    exportable: k.exportable,
    autoRotatePeriodSeconds: k.autoRotatePeriodSeconds,
    allowedOperations: k.allowedOperations,
    createdAt: k.createdAt.toISOString(),
    rotatedAt: k.rotatedAt.toISOString(),
  };
}

const mapVersion = (key: KeyRow, v: KeyVersionRow): KeyVersionDto => ({
  version: v.version,
  createdAt: v.createdAt.toISOString(),
  masterKeyId: v.masterKid,
  retired: v.version < key.minDecryptionVersion,
});

export function mapKeyDetail(d: KeyDetail): KeyDetailDto {
  return {
    ...mapKey(d.key),
    versions: d.versions.map((v) => mapVersion(d.key, v)),
    grants: d.grants.map((g: KeyGrant) => ({ subjectType: g.subjectType, subject: g.subject })),
    protectedData: d.protectedData,
  };
}

export class KeyPageDto extends PageDto(KeyDto) {}

export class PublicKeyDto {
  @ApiProperty()
  version!: number;

  @ApiProperty({ description: 'SubjectPublicKeyInfo, PEM.' })
  pem!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'JWK (RFC 7517) with kid `<name>:v<version>` and alg PS256, ES256 or EdDSA.',
  })
  jwk!: Record<string, unknown>;
}

export class PublicKeysDto {
  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: KEY_TYPES })
  type!: string;

  @ApiProperty({ type: [PublicKeyDto] })
  keys!: PublicKeyDto[];

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The same keys as a JWK Set (RFC 7517 §5).' })
  jwks!: { keys: Record<string, unknown>[] };
}

export function mapPublicKeys(key: KeyRow, keys: PublicKeyExport[]): PublicKeysDto {
  return { name: key.name, type: key.type, keys, jwks: { keys: keys.map((k) => k.jwk) } };
}

// ---- operations ---------------------------------------------------------------------------------

class ContextItem {
  @ApiPropertyOptional({
    description: 'Base64 associated data (AES-GCM/ChaCha20 AAD, RSA-OAEP label): needed again to decrypt.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_B64)
  @Matches(BASE64, { message: `context ${B64_MESSAGE}` })
  context?: string;
}

export class EncryptItemDto extends ContextItem {
  @ApiProperty({ example: 'aGVsbG8=', description: 'Base64 plaintext (up to 64 KiB).' })
  @IsString()
  @MaxLength(MAX_B64)
  @Matches(BASE64, { message: `plaintext ${B64_MESSAGE}` })
  plaintext!: string;

  @ApiPropertyOptional({ description: 'Encrypt under this version (default: the latest).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  keyVersion?: number;
}

export class DecryptItemDto extends ContextItem {
  @ApiProperty({ example: 'bastion:v1:…' })
  @IsString()
  @MaxLength(MAX_B64 + 32)
  ciphertext!: string;
}

export class DatakeyItemDto extends ContextItem {
  @ApiPropertyOptional({ description: 'Return the plaintext data key too (default false: wrapped only).' })
  @IsOptional()
  @IsBoolean()
  withPlaintext?: boolean;

  @ApiPropertyOptional({ enum: [128, 256], default: 256 })
  @IsOptional()
  @IsIn([128, 256])
  bits?: number;
}

export class SignItemDto {
  @ApiProperty({ description: 'Base64 message, or its SHA-256 digest with prehashed=true.' })
  @IsString()
  @MaxLength(MAX_B64)
  @Matches(BASE64, { message: `input ${B64_MESSAGE}` })
  input!: string;

  @ApiPropertyOptional({ description: 'input is a SHA-256 digest (RSA-PSS and ECDSA; not Ed25519).' })
  @IsOptional()
  @IsBoolean()
  prehashed?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(1)
  keyVersion?: number;
}

export class VerifyItemDto {
  @ApiProperty()
  @IsString()
  @MaxLength(MAX_B64)
  @Matches(BASE64, { message: `input ${B64_MESSAGE}` })
  input!: string;

  @ApiProperty({ example: 'bastion:v1:…' })
  @IsString()
  @MaxLength(2048)
  signature!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  prehashed?: boolean;
}

export class HmacItemDto {
  @ApiProperty()
  @IsString()
  @MaxLength(MAX_B64)
  @Matches(BASE64, { message: `input ${B64_MESSAGE}` })
  input!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(1)
  keyVersion?: number;
}

export class VerifyHmacItemDto {
  @ApiProperty()
  @IsString()
  @MaxLength(MAX_B64)
  @Matches(BASE64, { message: `input ${B64_MESSAGE}` })
  input!: string;

  @ApiProperty({ example: 'bastion:v1:…' })
  @IsString()
  @MaxLength(256)
  hmac!: string;
}

const batchOf = <T>(item: new () => T) => {
  class Batch {
    @ApiProperty({ type: [item], minItems: 1, maxItems: 1000 })
    @IsArray()
    @ArrayMinSize(1)
    @ArrayMaxSize(1000)
    @ValidateNested({ each: true })
    @Type(() => item)
    items!: T[];
  }
  return Batch;
};

export class EncryptBatchDto extends batchOf(EncryptItemDto) {}
export class DecryptBatchDto extends batchOf(DecryptItemDto) {}
export class DatakeyBatchDto extends batchOf(DatakeyItemDto) {}
export class SignBatchDto extends batchOf(SignItemDto) {}
export class VerifyBatchDto extends batchOf(VerifyItemDto) {}
export class HmacBatchDto extends batchOf(HmacItemDto) {}
export class VerifyHmacBatchDto extends batchOf(VerifyHmacItemDto) {}

export class OperationResultDto {
  @ApiPropertyOptional({ example: 'bastion:v2:…', description: 'encrypt, rewrap, datakey.' })
  ciphertext?: string;

  @ApiPropertyOptional({ description: 'Base64: decrypt, and datakey with withPlaintext.' })
  plaintext?: string;

  @ApiPropertyOptional({ example: 'bastion:v1:…' })
  signature?: string;

  @ApiPropertyOptional({ example: 'bastion:v1:…' })
  hmac?: string;

  @ApiPropertyOptional({ description: 'verify, verify-hmac.' })
  valid?: boolean;

  @ApiPropertyOptional({ description: 'The version that encrypted, signed or computed.' })
  keyVersion?: number;
}

export class ItemErrorDto {
  @ApiProperty({ example: 'KEY_VERSION_RETIRED' })
  code!: string;

  @ApiProperty()
  message!: string;
}

export class BatchItemResultDto extends OperationResultDto {
  @ApiProperty()
  index!: number;

  @ApiPropertyOptional({ type: ItemErrorDto, description: 'Present when this item failed; the others are unaffected.' })
  error?: ItemErrorDto;
}

export class BatchResultDto {
  @ApiProperty({ type: [BatchItemResultDto] })
  results!: BatchItemResultDto[];

  @ApiProperty({ description: 'How many items failed.' })
  errors!: number;
}

export function mapResult(r: OperationResult): OperationResultDto {
  return { ...r };
}

export function mapBatch(outcomes: OperationOutcome[]): BatchResultDto {
  let errors = 0;
  const results = outcomes.map((o, index): BatchItemResultDto => {
    if (o.ok) return { index, ...o.result };
    errors++;
    return { index, error: o.error };
  });
  return { results, errors };
}
