import type { ErrorCode, UsersProblem } from './types.js';

/**
 * An error answer of the API. `problem` is the problem+json body as a union: `switch (error.problem.code)` narrows
 * the code and, with it, `error.problem.status`. Network failures are not ApiErrors: fetch's own TypeError passes
 * through, as does an AbortSignal's error.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly problem: UsersProblem;
  readonly response: Response;

  constructor(problem: UsersProblem, response: Response) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.problem = problem;
    this.response = response;
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): ErrorCode {
    return this.problem.code;
  }
}

const isProblem = (body: unknown): body is UsersProblem =>
  typeof body === 'object' &&
  body !== null &&
  typeof (body as Record<string, unknown>)['code'] === 'string' &&
  typeof (body as Record<string, unknown>)['status'] === 'number';

/** The ApiError of an openapi-fetch error result (`{ error, response }`), whatever its body was. */
export function toApiError(error: unknown, response: Response): ApiError {
  if (isProblem(error)) return new ApiError(error, response);
  return new ApiError(
    {
      type: 'about:blank',
      title: response.statusText || 'Error',
      status: response.status,
      detail: `The server answered ${response.status} without a problem+json body.`,
      code: 'UNEXPECTED_RESPONSE',
    },
    response,
  );
}

/**
 * The data of an openapi-fetch result, or its ApiError thrown: for calls made on the raw client methods
 * (`client.GET(...)`) that should throw like the helpers do.
 */
export function unwrap<Data>(result: { data?: Data; error?: unknown; response: Response }): Data {
  if (!result.response.ok) throw toApiError(result.error, result.response);
  return result.data as Data;
}
