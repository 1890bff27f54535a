import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem';
import { ProblemDto } from './problem.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid: malformed JSON or fields that fail validation (see `errors`).',
  401: 'No valid credentials were presented.',
  403: 'The caller may not do this.',
  404: 'The resource does not exist, or the caller may not see it.',
  409: 'The request conflicts with the current state.',
  412: 'The `If-Match` ETag is not the resource\u2019s current one (someone changed it since you read it): nothing was changed; read it again and retry.',
  413: 'The request body is larger than the server accepts.',
  415: 'The request body is not JSON.',
  429: 'Too many requests; retry after `Retry-After` seconds.',
  500: 'An unexpected error; quote `requestId` when reporting it.',
  503: 'A dependency is unavailable.',
};

/** Documents the problem+json error responses an operation can return. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
}
