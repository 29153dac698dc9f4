import { STATUS_CODES } from 'node:http';
import { Type, type Static } from 'typebox';

export const ValidationIssueSchema = Type.Object(
  {
    location: Type.Array(Type.Union([Type.String(), Type.Integer()]), {
      description: 'Where the problem is: the request part (body, query, path) followed by the field path',
      examples: [['body', 'email']],
    }),
    message: Type.String({ examples: ['must be a valid email'] }),
  },
  { additionalProperties: false },
);

/**
 * The most problems a 422 lists. A 1 MB body of 90,000 unknown fields must not be answered with a 6 MB list
 * (nor cost the CPU to build one): the rest is only counted, in `errors_omitted`.
 */
export const MAX_LISTED_ISSUES = 100;

/** RFC 9457 problem details, with a stable machine-readable `code`. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'about:blank: the status code and `code` say what happened', examples: ['about:blank'] }),
    title: Type.String({ description: 'The HTTP status phrase', examples: ['Not Found'] }),
    status: Type.Integer({ minimum: 400, maximum: 599, examples: [404] }),
    detail: Type.String({ description: 'A human-readable sentence', examples: ['User not found'] }),
    code: Type.String({ description: 'A stable machine-readable error code', examples: ['USER_NOT_FOUND'] }),
    request_id: Type.Optional(Type.String({ description: 'The X-Request-Id of the request, to find it in the logs' })),
    errors: Type.Optional(
      Type.Array(ValidationIssueSchema, {
        maxItems: MAX_LISTED_ISSUES,
        description:
          `The validation problems found, at most ${MAX_LISTED_ISSUES}: all of them when errors_omitted is absent. ` +
          'Beyond that, problems with the declared fields are listed before unknown fields.',
      }),
    ),
    errors_omitted: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'How many more validation problems there are than errors lists; absent when it lists them all',
        examples: [89900],
      }),
    ),
  },
  { additionalProperties: false },
);

export type Problem = Static<typeof ProblemSchema>;
export type ValidationIssue = Static<typeof ValidationIssueSchema>;

/** The one error type of the service: it knows its HTTP status and stable code; the error handler renders it. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors?: ValidationIssue[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = new.target.name;
  }

  toProblem(): Problem {
    const problem: Problem = {
      type: 'about:blank',
      title: STATUS_CODES[this.status] ?? 'Error',
      status: this.status,
      detail: this.detail,
      code: this.code,
    };
    if (this.errors) problem.errors = this.errors;
    return problem;
  }
}

export class NotFoundError extends AppError {
  constructor(detail: string, code = 'NOT_FOUND') {
    super(404, code, detail);
  }
}

export class ConflictError extends AppError {
  constructor(detail: string, code: string) {
    super(409, code, detail);
  }
}

/**
 * Validation issues, and how many further problems were found (or counted without being looked at) that the
 * list leaves out: the validators stop mapping at the cap, and this count travels with the list.
 */
export type ValidationIssues = ValidationIssue[] & { omitted?: number };

/** A 422 listing at most MAX_LISTED_ISSUES problems; `omitted` counts the others. */
export class ValidationError extends AppError {
  /** How many problems are not listed in `errors` (0 when it lists them all). */
  readonly omitted: number;

  constructor(issues: ValidationIssues, detail?: string) {
    const listed = issues.length > MAX_LISTED_ISSUES ? issues.slice(0, MAX_LISTED_ISSUES) : issues;
    const omitted = (issues.omitted ?? 0) + issues.length - listed.length;
    super(
      422,
      'VALIDATION_FAILED',
      detail ??
        (omitted === 0
          ? 'The request is invalid; see errors for every problem.'
          : `The request is invalid; errors lists ${listed.length} problems and errors_omitted counts the others.`),
      listed,
    );
    this.omitted = omitted;
  }

  override toProblem(): Problem {
    const problem = super.toProblem();
    if (this.omitted > 0) problem.errors_omitted = this.omitted;
    return problem;
  }
}

/** Why the database cannot serve: the health check says which; requests say DATABASE_UNAVAILABLE. */
export type DatabaseFaultCode = 'DATABASE_UNAVAILABLE' | 'DATABASE_READ_ONLY' | 'DATABASE_FILE_MISSING' | 'DATABASE_FILE_REPLACED';

const DATABASE_FAULT_DETAILS: Record<DatabaseFaultCode, string> = {
  DATABASE_UNAVAILABLE: 'The database is unavailable; try again shortly.',
  DATABASE_READ_ONLY: 'The database cannot take writes (its file is read-only); reads still work.',
  DATABASE_FILE_MISSING: 'The database file was deleted while the server runs; it is being written back.',
  DATABASE_FILE_REPLACED: 'The database file was replaced while the server runs; writes wait for a restart.',
};

/**
 * The database did not answer (down, locked beyond the busy timeout, read-only, full). Safe to retry later.
 * `cause` keeps the driver's error for the server log; it never reaches the client.
 */
export class DatabaseUnavailableError extends AppError {
  constructor(cause?: unknown, code: DatabaseFaultCode = 'DATABASE_UNAVAILABLE') {
    super(503, code, DATABASE_FAULT_DETAILS[code], undefined, { 'retry-after': '1' });
    if (cause !== undefined) this.cause = cause;
  }
}

/** If-Match named a version that is no longer current: the client must re-read before writing. */
export class PreconditionFailedError extends AppError {
  constructor() {
    super(412, 'PRECONDITION_FAILED', 'The user has changed since the ETag in If-Match: read it again, then retry.');
  }
}

/** The Idempotency-Key was used before for a different request (IETF httpapi idempotency-key draft). */
export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different request body.');
  }
}

export class UserNotFoundError extends NotFoundError {
  constructor() {
    super('User not found', 'USER_NOT_FOUND');
  }
}

export class EmailTakenError extends ConflictError {
  constructor() {
    super('A user with this email already exists.', 'EMAIL_TAKEN');
  }
}
