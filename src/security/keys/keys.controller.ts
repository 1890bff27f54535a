import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { PageQueryDto } from '../../common/pagination/pagination';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../auth/principal';
import { Authenticated, CurrentPrincipal } from '../rbac/authenticated.decorator';
import {
  BatchResultDto,
  CreateKeyDto,
  DatakeyBatchDto,
  DatakeyItemDto,
  DecryptBatchDto,
  DecryptItemDto,
  EncryptBatchDto,
  EncryptItemDto,
  HmacBatchDto,
  HmacItemDto,
  KeyDetailDto,
  KeyPageDto,
  mapBatch,
  mapKey,
  mapKeyDetail,
  mapPublicKeys,
  mapResult,
  OperationResultDto,
  PublicKeysDto,
  SignBatchDto,
  SignItemDto,
  UpdateKeyDto,
  VerifyBatchDto,
  VerifyHmacBatchDto,
  VerifyHmacItemDto,
  VerifyItemDto,
} from './dto/keys.dto';
import { KeysService } from './keys.service';

const USE =
  'Needs `keys:use` and a grant on the key to one of your roles or groups (403 KEY_NOT_GRANTED otherwise), and the operation among the key’s allowed operations (403 KEY_OPERATION_NOT_ALLOWED).';
const BATCH = 'Up to 1,000 items; each item succeeds or fails on its own (`error` with a code), in order.';

@ApiTags('keys')
@Controller({ path: 'security/keys', version: '1' })
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Get()
  @Authenticated('keys:manage')
  @ApiOperation({ summary: 'List named keys', description: 'By name. Internal keys (bastion-*) are listed too.' })
  @ApiOkResponse({ type: KeyPageDto })
  @ApiProblems(400)
  async list(@Query() query: PageQueryDto): Promise<KeyPageDto> {
    const page = await this.keys.list(query);
    return { items: page.items.map(mapKey), nextCursor: page.nextCursor };
  }

  @Post()
  @Authenticated('keys:manage')
  @ApiOperation({
    summary: 'Create a named key',
    description: 'Version 1 is generated at once; its material is wrapped by the master key and never shown. Audited.',
  })
  @ApiCreatedResponse({ type: KeyDetailDto })
  @ApiProblems(400, 409, 503)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateKeyDto): Promise<KeyDetailDto> {
    return mapKeyDetail(await this.keys.create(principal, body));
  }

  @Get(':name')
  @Authenticated('keys:manage')
  @ApiOperation({
    summary: 'A key, its versions and grants',
    description: 'For internal keys, `protectedData` tells how many stored secrets each version still protects.',
  })
  @ApiOkResponse({ type: KeyDetailDto })
  @ApiProblems(404)
  async get(@Param('name') name: string): Promise<KeyDetailDto> {
    return mapKeyDetail(await this.keys.get(name));
  }

  @Patch(':name')
  @Authenticated('keys:manage')
  @ApiOperation({
    summary: 'Configure a key',
    description:
      'minDecryptionVersion, minEncryptionVersion, deletionAllowed, exportable, autoRotatePeriodSeconds, allowedOperations, grants (replaced). Audited.',
  })
  @ApiOkResponse({ type: KeyDetailDto })
  @ApiProblems(400, 404, 409)
  async update(@Param('name') name: string, @Body() body: UpdateKeyDto): Promise<KeyDetailDto> {
    return mapKeyDetail(await this.keys.update(name, body));
  }

  @Post(':name/rotate')
  @HttpCode(200)
  @Authenticated('keys:manage')
  @ApiOperation({
    summary: 'Rotate a key',
    description:
      'Adds a version that encrypts and signs from now on; older versions keep decrypting and verifying until minDecryptionVersion passes them. Audited.',
  })
  @ApiOkResponse({ type: KeyDetailDto })
  @ApiProblems(404, 503)
  async rotate(@Param('name') name: string): Promise<KeyDetailDto> {
    return mapKeyDetail(await this.keys.rotate(name));
  }

  @Delete(':name')
  @HttpCode(204)
  @Authenticated('keys:manage')
  @ApiOperation({
    summary: 'Delete a key',
    description: 'Only when deletionAllowed is set (409 KEY_DELETION_NOT_ALLOWED). Audited.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems(404, 409)
  async remove(@Param('name') name: string): Promise<void> {
    await this.keys.remove(name);
  }

  @Get(':name/export')
  @Authenticated('keys:manage')
  @ApiOperation({
    summary: 'Export public keys (PEM and JWK)',
    description:
      'Exportable asymmetric keys only; every version not retired, or `?version=`. Private keys are never exported. Audited.',
  })
  @ApiQuery({ name: 'version', required: false, type: Number })
  @ApiOkResponse({ type: PublicKeysDto })
  @ApiProblems(400, 403, 404)
  async export(@Param('name') name: string, @Query('version') version?: string): Promise<PublicKeysDto> {
    const v = version === undefined ? undefined : Number(version);
    const { key, keys } = await this.keys.exportPublic(name, Number.isSafeInteger(v) ? v : undefined);
    return mapPublicKeys(key, keys);
  }

  // ---- operations ---------------------------------------------------------------------------

  @Post(':name/encrypt')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Encrypt', description: `Returns \`bastion:v<N>:<base64>\`. ${USE}` })
  @ApiOkResponse({ type: OperationResultDto })
  @ApiProblems(400, 404)
  async encrypt(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: EncryptItemDto,
  ): Promise<OperationResultDto> {
    return mapResult(await this.keys.operateOne(p, name, 'encrypt', body));
  }

  @Post(':name/encrypt/bulk')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Encrypt a batch', description: `${BATCH} ${USE}` })
  @ApiOkResponse({ type: BatchResultDto })
  @ApiProblems(400, 404)
  async encryptBatch(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: EncryptBatchDto,
  ): Promise<BatchResultDto> {
    return mapBatch(await this.keys.operate(p, name, 'encrypt', body.items));
  }

  @Post(':name/decrypt')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({
    summary: 'Decrypt',
    description: `A ciphertext of a version below minDecryptionVersion answers 400 KEY_VERSION_RETIRED; a wrong context or tampering 400 DECRYPTION_FAILED. ${USE}`,
  })
  @ApiOkResponse({ type: OperationResultDto })
  @ApiProblems(400, 404)
  async decrypt(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: DecryptItemDto,
  ): Promise<OperationResultDto> {
    return mapResult(await this.keys.operateOne(p, name, 'decrypt', body));
  }

  @Post(':name/decrypt/bulk')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Decrypt a batch', description: `${BATCH} ${USE}` })
  @ApiOkResponse({ type: BatchResultDto })
  @ApiProblems(400, 404)
  async decryptBatch(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: DecryptBatchDto,
  ): Promise<BatchResultDto> {
    return mapBatch(await this.keys.operate(p, name, 'decrypt', body.items));
  }

  @Post(':name/rewrap')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({
    summary: 'Rewrap to the latest version',
    description: `Decrypts and re-encrypts inside Bastion: the plaintext is never returned. ${USE}`,
  })
  @ApiOkResponse({ type: OperationResultDto })
  @ApiProblems(400, 404)
  async rewrap(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: DecryptItemDto,
  ): Promise<OperationResultDto> {
    return mapResult(await this.keys.operateOne(p, name, 'rewrap', body));
  }

  @Post(':name/rewrap/bulk')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Rewrap a batch', description: `${BATCH} ${USE}` })
  @ApiOkResponse({ type: BatchResultDto })
  @ApiProblems(400, 404)
  async rewrapBatch(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: DecryptBatchDto,
  ): Promise<BatchResultDto> {
    return mapBatch(await this.keys.operate(p, name, 'rewrap', body.items));
  }

  @Post(':name/datakey')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({
    summary: 'Generate a data key',
    description: `A random 256-bit (or 128-bit) key, wrapped by this key; with withPlaintext also in clear, for envelope encryption. ${USE}`,
  })
  @ApiOkResponse({ type: OperationResultDto })
  @ApiProblems(400, 404)
  async datakey(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: DatakeyItemDto,
  ): Promise<OperationResultDto> {
    return mapResult(await this.keys.operateOne(p, name, 'datakey', body));
  }

  @Post(':name/datakey/bulk')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Generate data keys', description: `${BATCH} ${USE}` })
  @ApiOkResponse({ type: BatchResultDto })
  @ApiProblems(400, 404)
  async datakeyBatch(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: DatakeyBatchDto,
  ): Promise<BatchResultDto> {
    return mapBatch(await this.keys.operate(p, name, 'datakey', body.items));
  }

  @Post(':name/sign')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({
    summary: 'Sign',
    description: `RSA-PSS (SHA-256), ECDSA P-256 (SHA-256, r‖s) or Ed25519; prehashed SHA-256 digests for RSA and ECDSA. ${USE}`,
  })
  @ApiOkResponse({ type: OperationResultDto })
  @ApiProblems(400, 404)
  async sign(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: SignItemDto,
  ): Promise<OperationResultDto> {
    return mapResult(await this.keys.operateOne(p, name, 'sign', body));
  }

  @Post(':name/sign/bulk')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Sign a batch', description: `${BATCH} ${USE}` })
  @ApiOkResponse({ type: BatchResultDto })
  @ApiProblems(400, 404)
  async signBatch(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: SignBatchDto,
  ): Promise<BatchResultDto> {
    return mapBatch(await this.keys.operate(p, name, 'sign', body.items));
  }

  @Post(':name/verify')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Verify a signature', description: `Answers {valid}. ${USE}` })
  @ApiOkResponse({ type: OperationResultDto })
  @ApiProblems(400, 404)
  async verify(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: VerifyItemDto,
  ): Promise<OperationResultDto> {
    return mapResult(await this.keys.operateOne(p, name, 'verify', body));
  }

  @Post(':name/verify/bulk')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Verify a batch of signatures', description: `${BATCH} ${USE}` })
  @ApiOkResponse({ type: BatchResultDto })
  @ApiProblems(400, 404)
  async verifyBatch(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: VerifyBatchDto,
  ): Promise<BatchResultDto> {
    return mapBatch(await this.keys.operate(p, name, 'verify', body.items));
  }

  @Post(':name/hmac')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'HMAC-SHA-256', description: USE })
  @ApiOkResponse({ type: OperationResultDto })
  @ApiProblems(400, 404)
  async hmac(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: HmacItemDto,
  ): Promise<OperationResultDto> {
    return mapResult(await this.keys.operateOne(p, name, 'hmac', body));
  }

  @Post(':name/hmac/bulk')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'HMAC a batch', description: `${BATCH} ${USE}` })
  @ApiOkResponse({ type: BatchResultDto })
  @ApiProblems(400, 404)
  async hmacBatch(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: HmacBatchDto,
  ): Promise<BatchResultDto> {
    return mapBatch(await this.keys.operate(p, name, 'hmac', body.items));
  }

  @Post(':name/hmac/verify')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Verify an HMAC', description: `Compared in constant time; answers {valid}. ${USE}` })
  @ApiOkResponse({ type: OperationResultDto })
  @ApiProblems(400, 404)
  async verifyHmac(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: VerifyHmacItemDto,
  ): Promise<OperationResultDto> {
    return mapResult(await this.keys.operateOne(p, name, 'verify-hmac', body));
  }

  @Post(':name/hmac/verify/bulk')
  @HttpCode(200)
  @Authenticated('keys:use')
  @ApiOperation({ summary: 'Verify a batch of HMACs', description: `${BATCH} ${USE}` })
  @ApiOkResponse({ type: BatchResultDto })
  @ApiProblems(400, 404)
  async verifyHmacBatch(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: VerifyHmacBatchDto,
  ): Promise<BatchResultDto> {
    return mapBatch(await this.keys.operate(p, name, 'verify-hmac', body.items));
  }
}
