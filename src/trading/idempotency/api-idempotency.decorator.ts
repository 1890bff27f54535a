import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '../../common/errors/problem';
import { ProblemDto } from '../../common/openapi/problem.dto';
import { IDEMPOTENCY_HEADER, IDEMPOTENCY_TTL_HOURS } from './idempotency';

/** Documents the optional `Idempotency-Key` header of a route and its 422 answer. */
export function ApiIdempotency(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ApiHeader({
      name: IDEMPOTENCY_HEADER,
      required: false,
      description: `Any unique string (a UUID, say), up to 255 characters. A retry with the same key and the same body within ${IDEMPOTENCY_TTL_HOURS} h gets the first answer again (same status and body, plus \`Idempotent-Replayed: true\`) and stores nothing twice. Only successful answers are kept: a request that failed may be retried with the same key.`,
    }),
    ApiResponse({
      status: 422,
      description: `The ${IDEMPOTENCY_HEADER} was already used for a different request (method, path or body).`,
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
    }),
  );
}
