import { Type, type TSchema } from 'typebox';
import type { Problem } from '../errors.js';

/** A reference to a shared schema component, typed as the schema it names. */
export const ref = <T>(id: string) => Type.Unsafe<T>({ $ref: `${id}#` });

/** A response carried as application/json, described for OpenAPI and compiled for serialization. */
export const jsonResponse = (schema: TSchema, description: string, headers?: Record<string, object>) => ({
  description,
  ...(headers && { headers }),
  content: { 'application/json': { schema } },
});

/** An error response: RFC 9457 problem+json. */
export const problemResponse = (description: string, headers?: Record<string, object>) => ({
  description,
  ...(headers && { headers }),
  content: { 'application/problem+json': { schema: ref<Problem>('Problem') } },
});

/** A URL that cannot be decoded, such as `/users/%` (code BAD_REQUEST). */
export const URL_ERRORS = { 400: problemResponse('The URL is malformed (code BAD_REQUEST)') };

export const BODY_ERRORS = {
  400: problemResponse('The body is not valid JSON (code INVALID_JSON), or the URL is malformed (code BAD_REQUEST)'),
  413: problemResponse('The body is larger than the limit, 1 MiB by default (code BODY_TOO_LARGE)'),
  415: problemResponse('The body is not application/json (code UNSUPPORTED_MEDIA_TYPE)'),
};

export const SERVER_ERRORS = {
  500: problemResponse('An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR)'),
  503: problemResponse('The database does not answer; retry later (code DATABASE_UNAVAILABLE)', {
    'Retry-After': { type: 'integer', description: 'Seconds to wait before retrying' },
  }),
};
