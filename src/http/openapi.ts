import { Type, type TSchema } from 'typebox';
import type { AppError} from '../errors.js';
import { DatabaseUnavailableError, type Problem } from '../errors.js';
import { FASTIFY_ERRORS, INTERNAL_ERROR, MALFORMED_URL, PROBLEM_TYPE } from './problems.js';
import { HOST_REQUIRED, SHUTTING_DOWN } from './protocol.js';

// The pieces of the OpenAPI document the routes share: responses with their examples, and the finishing touches
// applied to the whole document (finishDocument). Every example of an error is rendered from the error object the
// server really sends, so an example can never say what the server does not.

/** A reference to a shared schema component, typed as the schema it names. */
export const ref = <T>(id: string) => Type.Unsafe<T>({ $ref: `${id}#` });

type Headers = Record<string, object>;

/** A response carried as application/json, described for OpenAPI and compiled for serialization, with an example. */
export const jsonResponse = (schema: TSchema, description: string, example: unknown, headers?: Headers) => ({
  description,
  ...(headers && { headers }),
  content: { 'application/json': { schema, example } },
});

/** The problem+json body of an error, as the server sends it (a 500 also names its request id). */
export function problemExample(error: AppError): Problem {
  const problem = error.toProblem();
  return error.status === 500 ? { ...problem, request_id: '5f0c3b1e-8d2a-4c6f-9b7e-2a1d4e6f8c90' } : problem;
}

/**
 * An error response: RFC 9457 problem+json whose `code` is one of the codes of `errors` (an enum, so that generated
 * clients get a union to switch on), with one named example per code. The schema narrows the shared Problem
 * component with `allOf`, which the serializer merges: what is sent does not change.
 */
export function problemResponse(description: string, errors: readonly AppError[], headers?: Headers) {
  const codes = [...new Set(errors.map((error) => error.code))];
  const examples = Object.fromEntries(
    codes.map((code) => {
      const error = errors.find((candidate) => candidate.code === code)!;
      return [code, { summary: error.detail, value: problemExample(error) }];
    }),
  );
  return {
    description,
    ...(headers && { headers }),
    content: {
      [PROBLEM_TYPE]: {
        schema: Type.Unsafe<Problem>({
          allOf: [{ $ref: 'Problem#' }, { type: 'object', required: ['code'], properties: { code: { type: 'string', enum: codes } } }],
        }),
        examples,
      },
    },
  };
}

/** A 400: a malformed request. Any HTTP/1.1 request without Host gets one; `errors` adds the operation's own. */
export const badRequest = (...errors: AppError[]) =>
  problemResponse(`The request is malformed (${[...errors, HOST_REQUIRED].map((error) => error.code).join(', ')}: see the examples)`, [
    ...errors,
    HOST_REQUIRED,
  ]);

/** The 400 of an operation with a path parameter: a URL that cannot be decoded. */
export const URL_ERRORS = { 400: badRequest(MALFORMED_URL) };

/** The errors of an operation with a JSON body; `more` adds the operation's other 400s (a malformed URL). */
export const bodyErrors = (...more: AppError[]) => ({
  400: badRequest(FASTIFY_ERRORS['FST_ERR_CTP_INVALID_JSON_BODY']!, FASTIFY_ERRORS['FST_ERR_CTP_INVALID_CONTENT_LENGTH']!, ...more),
  413: problemResponse('The body is larger than the limit, 1 MiB by default (code BODY_TOO_LARGE)', [
    FASTIFY_ERRORS['FST_ERR_CTP_BODY_TOO_LARGE']!,
  ]),
  415: problemResponse('The body is not application/json (code UNSUPPORTED_MEDIA_TYPE)', [FASTIFY_ERRORS['FST_ERR_CTP_INVALID_MEDIA_TYPE']!]),
});

const RETRY_AFTER = { 'Retry-After': { type: 'integer', description: 'Seconds to wait before retrying' } };

/** A 503: the server is shutting down, or (with `faults`, the database's own codes) the database does not answer. */
export const unavailable = (faults: AppError[] = [new DatabaseUnavailableError()]) =>
  problemResponse(
    `${faults.length > 0 ? 'The database does not answer, or this' : 'This'} server is shutting down (code SHUTTING_DOWN: on a ` +
      'new connection another instance answers); retry after Retry-After',
    [...faults, SHUTTING_DOWN],
    RETRY_AFTER,
  );

export const SERVER_ERRORS = {
  500: problemResponse('An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR)', [
    INTERNAL_ERROR,
  ]),
  503: unavailable(),
};

interface DocumentResponse {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, unknown>;
}
interface DocumentOperation {
  operationId?: string;
  summary?: string;
  description?: string;
  responses: Record<string, DocumentResponse>;
}
interface Document {
  paths: Record<string, Record<string, DocumentOperation>>;
  components: { headers?: Record<string, unknown> };
}

/** The HEAD twin of a GET operation id: getUser → headUser, listUsers → headUsers. */
const headOperationId = (getId: string) => getId.replace(/^(get|list)/, 'head');

/**
 * What holds for every operation, added once to the whole document: the X-Request-Id and traceparent headers of every response,
 * and HEAD operations described as HEAD (Fastify answers HEAD for every GET route: same status and headers,
 * no body), with their own operation ids.
 */
export function finishDocument<T>(document: T): T {
  const { paths, components } = document as Document;
  components.headers = {
    'X-Request-Id': {
      description: "The request's id: the client's X-Request-Id when it is a safe token (1-128 of A-Z a-z 0-9 . _ : -), else a new UUID",
      schema: { type: 'string' },
    },
    traceparent: {
      description:
        "W3C Trace Context: the trace of the request's traceparent (or a new one when it has none or an invalid one), " +
        "with this server's span as the parent id; the trace id is in every log line of the request",
      schema: { type: 'string', pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$', examples: ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'] },
    },
  };
  for (const operations of Object.values(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const get = operations['get'];
      if (method === 'head' && get?.operationId) {
        // A copy: a route declared for GET and HEAD shares one operation object between them.
        operations['head'] = {
          ...operation,
          operationId: headOperationId(get.operationId),
          summary: `${get.summary ?? ''} (headers only)`,
          description: `The same as GET, without the body. ${get.description ?? ''}`.trim(),
          responses: Object.fromEntries(
            Object.entries(operation.responses).map(([status, { content: _body, ...response }]) => [status, response]),
          ),
        };
      }
    }
    for (const operation of Object.values(operations)) {
      for (const response of Object.values(operation.responses)) {
        response.headers = {
          'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' },
          traceparent: { $ref: '#/components/headers/traceparent' },
          ...response.headers,
        };
      }
    }
  }
  return document;
}
