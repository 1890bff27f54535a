import { Controller, Get, Header, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/http/public.decorator';
import { buildAsyncApiDocument } from './asyncapi';

/** The AsyncAPI 3 document of the live gateway, beside the OpenAPI one (`/docs-json`). */
@ApiTags('live')
@Controller({ path: 'docs/asyncapi.json', version: VERSION_NEUTRAL })
export class AsyncApiController {
  private readonly document = buildAsyncApiDocument();

  @Get()
  @Public()
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'AsyncAPI 3 document of the live gateway',
    description:
      'The Socket.IO namespace `/live`: handshake, channels, every event the server pushes and every event a client may send, with their payload schemas.',
  })
  @ApiOkResponse({ description: 'An AsyncAPI 3.0 document.', schema: { type: 'object', additionalProperties: true } })
  get(): Record<string, unknown> {
    return this.document;
  }
}
