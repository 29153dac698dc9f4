import type { components, paths } from './schema.js';

// Everything here is computed from the generated `paths`, so a regenerated schema.ts (new operations, new codes,
// operationIds) changes these types without a hand edit.

export type User = components['schemas']['User'];
export type UserCreate = components['schemas']['UserCreate'];
export type UserUpdate = components['schemas']['UserUpdate'];
/** The RFC 9457 body every error carries. */
export type Problem = components['schemas']['Problem'];

/** The query of GET /users/: offset, limit, sort, count, cursor and the filters. */
export type ListQuery = NonNullable<paths['/users/']['get']['parameters']['query']>;

type Methods = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';

/** Every operation object of the paths whose name starts with Prefix. */
type OperationsUnder<Prefix extends string> = {
  [P in keyof paths]: P extends `${Prefix}${string}` ? { [M in Methods & keyof paths[P]]: NonNullable<paths[P][M]> }[Methods & keyof paths[P]] : never;
}[keyof paths];

type ResponsesOf<Operation> = Operation extends { responses: infer R } ? R : never;

/** The 4xx and 5xx status keys of a responses object. */
type ErrorStatuses<R> = {
  [S in keyof R]: S extends number ? (`${S}` extends `4${string}` | `5${string}` ? S : never) : never;
}[keyof R];

type ProblemBody<Response> = Response extends { content: { 'application/problem+json': infer Body } } ? Body : never;
/** `Problem & { code?: 'A' | 'B' }` (the allOf of a status's codes) gives 'A' | 'B'; a plain Problem gives string. */
type CodeOf<Body> = Body extends { code: infer Code } ? NonNullable<Code> & string : never;

/**
 * One member per error status of an operation: its status as a literal, and its `code` as the document states it.
 * Once the document gives each status an enum of codes, `code` is a literal union and a `switch (problem.code)`
 * narrows `problem.status` with it; with a plain string code it is `string`.
 */
type ProblemsOf<Operation> = Operation extends unknown // one operation at a time: keyof a union keeps only shared keys
  ? {
      [S in ErrorStatuses<ResponsesOf<Operation>>]: Omit<ProblemBody<ResponsesOf<Operation>[S]>, 'status' | 'code'> & {
        status: S;
        code: CodeOf<ProblemBody<ResponsesOf<Operation>[S]>>;
      };
    }[ErrorStatuses<ResponsesOf<Operation>>]
  : never;

/**
 * Opt-in answers: the document lists 401 and 429 only when the server runs with API_KEY / RATE_LIMIT, and schema.ts
 * is generated from the default configuration, so these two are the only codes written by hand.
 */
type OptInProblem = Omit<Problem, 'status' | 'code'> &
  ({ status: 401; code: 'UNAUTHORIZED' } | { status: 429; code: 'RATE_LIMITED' });

/**
 * Made by this client, not the server: an error response whose body is not problem+json (a proxy's HTML page, an
 * empty body). `status` is the response's.
 */
export type UnexpectedResponseProblem = Omit<Problem, 'status' | 'code'> & { status: number; code: 'UNEXPECTED_RESPONSE' };

/** A problem any /users operation can answer: a union a `switch (problem.code)` narrows, status included. */
export type UsersProblem = ProblemsOf<OperationsUnder<'/users'>> | OptInProblem | UnexpectedResponseProblem;

/** The problems of one operation, e.g. `OperationProblem<'/users/{user_id}', 'patch'>`. */
export type OperationProblem<Path extends keyof paths, Method extends Methods & keyof paths[Path]> =
  | ProblemsOf<NonNullable<paths[Path][Method]>>
  | (Path extends `/users${string}` ? OptInProblem : never)
  | UnexpectedResponseProblem;

/** Every code a /users operation can answer with. */
export type ErrorCode = UsersProblem['code'];
