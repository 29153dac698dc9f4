import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TObject, type TSchema } from 'typebox';
import { AppError, MAX_LISTED_ISSUES, ValidationError, ValidationIssueSchema, type ValidationIssue } from '../errors.js';
import { SERVER_ERRORS, badRequest, jsonResponse, problemResponse } from '../http/openapi.js';
import { csvRecord } from '../http/csv.js';
import { sendProblem } from '../http/problems.js';
import { toValidationIssues, type PatternMessages } from '../http/validation.js';
import {
  ATOMIC_MAX_ROWS,
  BULK_MEDIA_TYPES,
  EXPORT_PAGE_ROWS,
  IMPORT_BATCH_ROWS,
  IMPORT_EXAMPLE,
  ImportTooLargeError,
  MAX_ROW_CHARS,
  TooManyRowsError,
  emptyReport,
  exportHead,
  importRows,
  settledRows,
  type BulkFormat,
  type ImportReport,
} from './users.bulk.js';
import type { UsersService } from './users.service.js';
import type { User, UserFilters, UserModel } from './users.schemas.js';

// GET /users/export and POST /users/import: schemas for every status, and handlers that stream. The rules are in
// users.bulk.ts.

const TAGS = ['users'];

export const NOT_ACCEPTABLE = new AppError(
  406,
  'NOT_ACCEPTABLE',
  'The export is text/csv or application/x-ndjson: send an Accept that allows one of them, or format=csv|ndjson.',
);
export const IMPORT_MEDIA_TYPE = new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'An import is sent as text/csv or application/x-ndjson.');
export const UPLOAD_INCOMPLETE = new AppError(400, 'UPLOAD_INCOMPLETE', 'The upload ended before its end; the rows settled before stay.');

/** The methods of the bulk paths, by the segment after /users/. */
// A Map, not an object: an id such as `valueOf` or `constructor` must not find Object.prototype's members (the fuzzer
// found PATCH /users/valueOf answered 405).
const BULK_PATH_METHODS: ReadonlyMap<string, string> = new Map([
  ['export', 'GET, HEAD'],
  ['import', 'POST'],
]);

/**
 * An onRequest hook of the /users/:user_id routes: the router sends them the methods the bulk paths do not take
 * (PATCH /users/export, GET /users/import), which are a 405 with the bulk path's Allow, as for any known path.
 */
export function answerBulkPathMethods(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const allow = BULK_PATH_METHODS.get((request.params as { user_id?: string }).user_id ?? '');
  if (allow === undefined) return done();
  sendProblem(reply, new AppError(405, 'METHOD_NOT_ALLOWED', `This method is not allowed here; use ${allow}.`, undefined, { allow }));
}

/** The export's format: format= wins; then Accept, by preference; CSV for anything (no Accept, or a wildcard). */
export function exportFormat(format: BulkFormat | undefined, accept: string | undefined): BulkFormat {
  if (format) return format;
  if (accept === undefined || accept.trim() === '') return 'csv';
  const ranges = accept
    .split(',')
    .map((range, order) => {
      const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
      const q = parameters.find((parameter) => parameter.startsWith('q='));
      return { type, q: q === undefined ? 1 : Number(q.slice(2)), order };
    })
    .filter((range) => range.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { type } of ranges) {
    if (type === 'text/csv' || type === 'text/*' || type === '*/*') return 'csv';
    if (type === 'application/x-ndjson' || type === 'application/*') return 'ndjson';
  }
  throw NOT_ACCEPTABLE;
}

export interface BulkRoutesOptions {
  users: UsersService;
  model: UserModel;
  importBodyLimit: number;
  patternMessages: PatternMessages;
}

export const usersBulkRoutes: FastifyPluginAsync<BulkRoutesOptions> = async (fastify, { users, model, importBodyLimit, patternMessages }) => {
  const example = model.example as User;
  const names = model.fields.map((field) => field.name);
  const csvExample = exportHead(model, 'csv') + csvRecord(names.map((name) => String((example as Record<string, unknown>)[name] ?? '')));

  // The list's filters and sort, without its paging; and format.
  const { offset: _offset, limit: _limit, cursor: _cursor, count: _count, ...listParameters } = (model.schemas.UserListQuery as TObject)
    .properties as Record<string, TSchema>;
  const ExportQuery = Type.Object(
    {
      ...listParameters,
      format: Type.Optional(
        Type.Unsafe<BulkFormat>({
          type: 'string',
          enum: ['csv', 'ndjson'],
          description: 'csv (text/csv) or ndjson (application/x-ndjson); without it, Accept decides, and CSV for */*',
        }),
      ),
    },
    { additionalProperties: false },
  );

  // Without the type provider: its reply types know JSON bodies only, and this one is a stream.
  fastify.route({
    method: ['GET', 'HEAD'],
    url: '/users/export',
    exposeHeadRoute: false,
    schema: {
      operationId: 'getUsersExport',
      summary: 'Export users',
      description:
        'Every user matching the filters, in the sort order, as one streamed response: CSV (RFC 4180, a header row of ' +
        'the field names; a text cell that starts with =, +, -, @, tab or CR gets a leading single quote, so that a ' +
        'spreadsheet shows it as text) or NDJSON (one User per line). Read in pages of ' +
        `${EXPORT_PAGE_ROWS} users: not a snapshot of one instant, each user at most once unless its sort field changes meanwhile.`,
      tags: TAGS,
      querystring: ExportQuery,
      headers: {
        type: 'object',
        properties: {
          accept: { type: 'string', description: 'text/csv or application/x-ndjson (format= wins over it)' },
        },
      },
      response: {
        200: {
          description: 'The users, streamed',
          headers: {
            'Content-Disposition': { type: 'string', description: 'attachment, with a file name', examples: ['attachment; filename="users.csv"'] },
          },
          content: {
            'text/csv': { schema: { type: 'string', description: 'RFC 4180 CSV with a header row' }, example: csvExample },
            'application/x-ndjson': { schema: { type: 'string', description: 'One User as JSON per line' }, example: `${JSON.stringify(example)}\n` },
          },
        },
        400: badRequest(),
        406: problemResponse('Accept allows neither text/csv nor application/x-ndjson (code NOT_ACCEPTABLE)', [NOT_ACCEPTABLE]),
        422: problemResponse('A value is invalid; errors lists every problem (code VALIDATION_FAILED)', [
          new ValidationError([{ location: ['query', 'format'], message: 'must be one of: csv, ndjson' }]),
        ]),
        ...SERVER_ERRORS,
      },
    },
    handler: async (request, reply) => {
      const query = request.query as Record<string, unknown> & { sort?: string; format?: BulkFormat };
      const format = exportFormat(query.format, request.headers.accept);
      const sortParam = query.sort ?? 'id';
      const descending = sortParam.startsWith('-');
      const filters: Record<string, unknown> = {};
      for (const param of model.filterParams) if (query[param] !== undefined) filters[param] = query[param];
      const pages = users.exportUsers({ filters: filters as UserFilters, sort: descending ? sortParam.slice(1) : sortParam, descending, format });
      // The first page before the headers: a database that cannot answer is a 503 problem, not a cut stream.
      const first = await pages.next();
      reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="users.${format}"`)
        .header('cache-control', 'no-store');
      if (request.method === 'HEAD') {
        await pages.return(undefined);
        return reply.send();
      }
      async function* text(): AsyncGenerator<string> {
        try {
          const head = exportHead(model, format) + (first.done ? '' : first.value.text);
          if (head !== '') yield head;
          if (first.done) return;
          for await (const page of pages) yield page.text;
        } finally {
          // The client went away (the stream is destroyed): no page is read after this one.
          await pages.return(undefined);
        }
      }
      // One page at a time: the reply pulls the next page only when the socket has taken the previous one
      // (backpressure). Pages stay strings down to the socket, which encodes them into memory of its own, freed once
      // written: as Buffers they would be memory V8 reclaims only when a collection runs (tens of MB later).
      return reply.send(Readable.from(text(), { objectMode: true, highWaterMark: 1 }));
    },
  });

  await fastify.register(async (scope) => {
    // The import reads its body itself, as it streams in: no parser buffers it. Only this route's scope.
    scope.removeAllContentTypeParsers();
    // The body is left unread for the handler: '' stands in for it (the text the body schema describes).
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, ''));
    const scoped = scope.withTypeProvider<TypeBoxTypeProvider>();
    const importCsvExample = 'first_name,last_name,age,email\r\nJohn,Doe,30,john.doe@example.com\r\nJane,Roe,,jane.roe@example.com\r\n';
    const importNdjsonExample =
      '{"first_name":"John","last_name":"Doe","age":30,"email":"john.doe@example.com"}\n' +
      '{"first_name":"Jane","last_name":"Roe","email":"jane.roe@example.com"}\n';
    const rowInvalid = new ValidationError(
      [{ location: ['line', 3, 'email'], message: 'must be a valid email' }],
      '1 rows are refused; nothing was created (atomic=true). errors lists the problems by line.',
    );
    scoped.post(
      '/users/import',
      {
        bodyLimit: importBodyLimit,
        schema: {
          operationId: 'importUsers',
          summary: 'Import users',
          description:
            'Creates users from CSV (text/csv: a header row naming the columns, as the export writes them) or NDJSON ' +
            '(application/x-ndjson: one user object per line). Each row is validated as the body of POST /users/; id, ' +
            'created_at and updated_at are accepted and ignored, so that an export imports as it is. In CSV an empty ' +
            'cell is an absent value, and one leading single quote before =, +, -, @, tab, CR or another quote is ' +
            'dropped (the export adds it). A duplicate email, of an existing user or of an earlier row, refuses the row.\n\n' +
            `Default (per row): users are created in transactions of ${IMPORT_BATCH_ROWS} rows as the upload streams in, and ` +
            'refused rows are reported. With atomic=true, all or none: any refused row, and nothing is created (a 422 ' +
            `listing them); at most ${ATOMIC_MAX_ROWS} rows.\n\n` +
            `The upload may be IMPORT_BODY_LIMIT bytes, counted as it arrives; a CSV record or NDJSON line at most ${MAX_ROW_CHARS} ` +
            'characters. If the upload is cut (413, or a lost connection), the transactions committed stay: every row up to ' +
            "last_line of an answer is settled; resume with from_line = last_line + 1, or send the whole file again: the " +
            'users created already are refused rows (their email is taken), never created twice.',
          tags: TAGS,
          querystring: Type.Object(
            {
              atomic: Type.Optional(Type.Boolean({ default: false, description: 'All or none: any refused row, and no user is created' })),
              from_line: Type.Optional(
                Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1, description: 'Skip the rows before this line (a CSV header is still read): to resume' }),
              ),
            },
            { additionalProperties: false },
          ),
          headers: {
            type: 'object',
            properties: { 'content-type': { type: 'string', description: 'text/csv or application/x-ndjson' } },
          },
          body: {
            content: {
              'text/csv': {
                schema: { type: 'string', description: 'CSV (RFC 4180) with a header row naming the columns', examples: [importCsvExample] },
              },
              'application/x-ndjson': {
                schema: { type: 'string', description: 'One user object per line', examples: [importNdjsonExample] },
              },
            },
          },
          response: {
            200: jsonResponse(
              Type.Object(
                {
                  created: Type.Integer({ minimum: 0, description: 'Users created' }),
                  refused: Type.Integer({ minimum: 0, description: 'Rows refused' }),
                  last_line: Type.Integer({
                    minimum: 0,
                    description: 'Every row up to this line is settled (created or refused): to resume, from_line = last_line + 1',
                  }),
                  errors: Type.Array(ValidationIssueSchema, {
                    maxItems: MAX_LISTED_ISSUES,
                    description: `The problems of the refused rows, located ["line", <line>, <field>], at most ${MAX_LISTED_ISSUES}`,
                  }),
                  errors_omitted: Type.Optional(Type.Integer({ minimum: 1, description: 'How many more problems there are than errors lists' })),
                },
                { additionalProperties: false },
              ),
              'What was created, and why the other rows were refused',
              IMPORT_EXAMPLE,
            ),
            400: badRequest(UPLOAD_INCOMPLETE),
            413: problemResponse(
              'The upload is larger than IMPORT_BODY_LIMIT (code BODY_TOO_LARGE: the detail says up to which line rows are settled and ' +
                'how to resume), or atomic=true has more rows than it takes (code TOO_MANY_ROWS)',
              [new ImportTooLargeError(104857600, { ...emptyReport(), created: 500, last_line: 501 }), new TooManyRowsError()],
            ),
            415: problemResponse('The body is not text/csv or application/x-ndjson (code UNSUPPORTED_MEDIA_TYPE)', [IMPORT_MEDIA_TYPE]),
            422: problemResponse(
              'The CSV header row is invalid, or (atomic=true) rows are refused and nothing was created; errors lists the problems by line (code VALIDATION_FAILED)',
              [rowInvalid],
            ),
            ...SERVER_ERRORS,
          },
        },
      },
      async (request, reply) => {
        const format = importFormat(request);
        const query = request.query as { atomic?: boolean; from_line?: number };
        const declared = Number(request.headers['content-length']);
        if (declared > importBodyLimit) throw new ImportTooLargeError(importBodyLimit);
        const validator = request.compileValidationSchema(model.schemas.UserCreate, 'body');
        const validate = (value: unknown): ValidationIssue[] =>
          validator(value) ? [] : toValidationIssues((validator.errors ?? []) as never, 'body', patternMessages);
        const report = emptyReport();
        const chunks = limitedBody(request, importBodyLimit);
        try {
          await users.importUsers(importRows(model, format, chunks, validate, query.from_line ?? 1), { atomic: query.atomic ?? false }, report);
        } catch (error) {
          if (error instanceof BodyLimitExceeded) throw new ImportTooLargeError(importBodyLimit, query.atomic ? undefined : report);
          if (error instanceof UploadCutShort) {
            request.log.info({ created: report.created, last_line: report.last_line }, 'import cut short by the client');
            throw new AppError(400, UPLOAD_INCOMPLETE.code, `${UPLOAD_INCOMPLETE.detail} ${settledRows(query.atomic ? undefined : report)}`, undefined, {
              connection: 'close',
            });
          }
          throw error;
        }
        return reply.send(report satisfies ImportReport);
      },
    );
  });
};

/** The upload's format from its Content-Type; anything else is a 415. */
function importFormat(request: FastifyRequest): BulkFormat {
  const type = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === BULK_MEDIA_TYPES.csv) return 'csv';
  if (type === BULK_MEDIA_TYPES.ndjson) return 'ndjson';
  throw IMPORT_MEDIA_TYPE;
}

class BodyLimitExceeded extends Error {}
class UploadCutShort extends Error {}

/** The request body as it arrives, counted: past `limit` bytes the reading stops. */
async function* limitedBody(request: FastifyRequest, limit: number): AsyncGenerator<Buffer> {
  let received = 0;
  const body = request.raw;
  try {
    for await (const chunk of body) {
      received += (chunk as Buffer).length;
      if (received > limit) throw new BodyLimitExceeded();
      yield chunk as Buffer;
    }
  } catch (error) {
    if (error instanceof BodyLimitExceeded) throw error;
    throw new UploadCutShort();
  }
  // A body shorter than its Content-Length ends with an error above; Node ends a chunked body only at its last chunk.
  if (body.readableAborted) throw new UploadCutShort();
}
