import { setImmediate as nextTurn } from 'node:timers/promises';
import { StringDecoder } from 'node:string_decoder';
import { AppError, MAX_LISTED_ISSUES, ValidationError, type ValidationIssue } from '../errors.js';
import { CsvReader, csvRecord, restoreFormulaText } from '../http/csv.js';
import { NdjsonReader } from '../http/ndjson.js';
import { foldAscii, uniqueCreateField, type SortKey, type UserExportPage, type UsersRepository } from './users.repository.js';
import type { UserCreate, UserFilters, UserModel } from './users.schemas.js';

// Export and import of users in bulk (CSV and NDJSON): the export's pages (their text is rendered by the database,
// users.repository.ts csvRecordSql) and the import's rules: how a row is read, batches, all-or-none, refused rows,
// resume. The routes are in users.bulk.routes.ts.

export type BulkFormat = 'csv' | 'ndjson';
export const BULK_MEDIA_TYPES: Record<BulkFormat, string> = { csv: 'text/csv', ndjson: 'application/x-ndjson' };

/**
 * Rows an export reads per statement. Each page is one indexed range read rendered by the database (about a
 * millisecond on SQLite), and the event loop serves other requests between pages.
 */
export const EXPORT_PAGE_ROWS = 500;
/**
 * Users an import inserts per transaction in the default mode. On SQLite a batch runs on the event loop (about
 * 50 µs a user): 500 users keep other requests waiting some tens of milliseconds at most.
 */
export const IMPORT_BATCH_ROWS = 500;
/**
 * The most rows of an all-or-none import (atomic=true): they are held in memory until the end of the upload and
 * inserted in one transaction, which on SQLite holds the event loop (about 50 µs a user: half a second at most).
 */
export const ATOMIC_MAX_ROWS = 10_000;
/** The longest CSV record or NDJSON line of an import, in characters: a user is far below. */
export const MAX_ROW_CHARS = 64 * 1024;

/** The export's text: the header row of a CSV, then the pages as the database renders them. */
export const exportHead = (model: UserModel, format: BulkFormat) => (format === 'csv' ? csvRecord(model.fields.map((field) => field.name)) : '');

/** What an export reads: the list's filters and order, and the format its rows are read for. */
export interface ExportQuery {
  filters: UserFilters;
  sort: string;
  descending: boolean;
  format: BulkFormat;
}

/**
 * The pages of an export, in the list's order, read in keyset batches until the last. Between pages the event loop
 * serves other requests; a consumer that stops pulling (a slow or gone client) stops the reading.
 */
export async function* exportPages(users: UsersRepository, query: ExportQuery, pageRows = EXPORT_PAGE_ROWS): AsyncGenerator<UserExportPage> {
  const { format, ...order } = query;
  let after: SortKey | undefined;
  for (;;) {
    const page = await users.exportPage({ ...order, limit: pageRows, as: format, ...(after && { after }) });
    if (page.size > 0) yield page;
    if (!page.lastKey) return;
    after = page.lastKey;
    await nextTurn();
  }
}

// ---- Import ----

/** One row of an upload: the user it creates, or why it is refused. */
export type ImportRow = { line: number; user: UserCreate } | { line: number; problems: ValidationIssue[] };

/** A validator of a create body (the one of POST /users/): the problems, located from `body`, or none. */
export type CreateValidator = (value: unknown) => ValidationIssue[];

/** The report of an import: how many users were created and why the other rows were refused. */
export interface ImportReport {
  created: number;
  refused: number;
  /** Every row up to this line is settled (created or refused): a resumed upload sends from_line = last_line + 1. */
  last_line: number;
  /** The problems of the refused rows, located [line, <number>, <field>], at most MAX_LISTED_ISSUES. */
  errors: ValidationIssue[];
  /** How many more problems there are than errors lists; absent when it lists them all. */
  errors_omitted?: number;
}

export const IMPORT_EXAMPLE: ImportReport = {
  created: 2,
  refused: 1,
  last_line: 4,
  errors: [{ location: ['line', 3, 'email'], message: 'must be a valid email' }],
};

/** The upload is larger than IMPORT_BODY_LIMIT: stopped there, with what was settled before. */
export class ImportTooLargeError extends AppError {
  constructor(limit: number, report?: ImportReport) {
    super(413, 'BODY_TOO_LARGE', `The upload is larger than the import limit (${limit} bytes). ${settledRows(report)}`, undefined, { connection: 'close' });
  }
}

/** atomic=true with more rows than it takes. */
export class TooManyRowsError extends AppError {
  constructor() {
    super(
      413,
      'TOO_MANY_ROWS',
      `An all-or-none import (atomic=true) takes at most ${ATOMIC_MAX_ROWS} rows; nothing was created. Import larger files in the default mode (per row).`,
      undefined,
      { connection: 'close' },
    );
  }
}

/** What an answer that stops an import says about the rows before: how to resume. */
export function settledRows(report?: ImportReport): string {
  if (!report || report.last_line === 0) return 'Nothing was created.';
  return `Rows up to line ${report.last_line} are settled (${report.created} users created, ${report.refused} rows refused): send the rest with from_line=${report.last_line + 1}.`;
}

/** Pieces of an upload as they arrive: bytes, or a signal that it was cut short. */
type Chunks = AsyncIterable<Buffer | string>;

/**
 * The rows of an upload, read as they arrive (never more than one record held): CSV with a header row naming
 * columns of a user, or NDJSON, one user object per line. Server-set fields (id, timestamps: what an export adds)
 * are accepted and ignored, so that an export imports as it is; each row is then validated as a create body.
 */
export async function* importRows(
  model: UserModel,
  format: BulkFormat,
  chunks: Chunks,
  validate: CreateValidator,
  fromLine = 1,
): AsyncGenerator<ImportRow> {
  const decoder = new StringDecoder('utf8');
  const created = new Set(model.created.map((field) => field.name));
  const known = new Set(model.fields.map((field) => field.name));
  const located = (line: number, issues: ValidationIssue[]): ValidationIssue[] =>
    issues.map(({ location, message }) => ({ location: ['line', line, ...location.slice(1)], message }));

  if (format === 'ndjson') {
    const reader = new NdjsonReader(MAX_ROW_CHARS);
    const rowOf = (record: ReturnType<NdjsonReader['end']>[number]): ImportRow => {
      if ('problem' in record) return { line: record.line, problems: [{ location: ['line', record.line], message: record.problem }] };
      let value = record.value;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        value = Object.fromEntries(Object.entries(value).filter(([key]) => created.has(key) || !known.has(key)));
      }
      const problems = validate(value);
      return problems.length > 0 ? { line: record.line, problems: located(record.line, problems) } : { line: record.line, user: value as UserCreate };
    };
    for await (const chunk of chunks) {
      for (const record of reader.feed(typeof chunk === 'string' ? chunk : decoder.write(chunk))) if (record.line >= fromLine) yield rowOf(record);
    }
    for (const record of reader.feed(decoder.end())) if (record.line >= fromLine) yield rowOf(record);
    for (const record of reader.end()) if (record.line >= fromLine) yield rowOf(record);
    return;
  }

  const reader = new CsvReader(MAX_ROW_CHARS);
  let columns: (string | undefined)[] | undefined;
  const rowOf = (record: ReturnType<CsvReader['end']>[number]): ImportRow | undefined => {
    if (!columns) {
      columns = headerColumns(model, record);
      return undefined;
    }
    if (record.line < fromLine) return undefined;
    if ('problem' in record) return { line: record.line, problems: [{ location: ['line', record.line], message: record.problem }] };
    if (record.fields.length !== columns.length) {
      const problem = `has ${record.fields.length} fields; the header has ${columns.length}`;
      return { line: record.line, problems: [{ location: ['line', record.line], message: problem }] };
    }
    const user: Record<string, unknown> = {};
    columns.forEach((name, index) => {
      const cell = record.fields[index]!;
      // An empty cell is an absent value: a required field is missing, an optional one is null.
      if (name === undefined || cell === '') return;
      user[name] = cellValue(model, name, cell);
    });
    const problems = validate(user);
    return problems.length > 0 ? { line: record.line, problems: located(record.line, problems) } : { line: record.line, user: user as UserCreate };
  };
  const rowsOf = function* (records: ReturnType<CsvReader['end']>) {
    for (const record of records) {
      const row = rowOf(record);
      if (row) yield row;
    }
  };
  for await (const chunk of chunks) yield* rowsOf(reader.feed(typeof chunk === 'string' ? chunk : decoder.write(chunk)));
  yield* rowsOf(reader.feed(decoder.end()));
  yield* rowsOf(reader.end());
  if (!columns) throw new ValidationError([{ location: ['line', 1], message: 'must be a header row naming the columns' }]);
}

/** The create field of each CSV column (undefined: a server-set field, ignored); a header that cannot be is a 422. */
function headerColumns(model: UserModel, record: ReturnType<CsvReader['end']>[number]): (string | undefined)[] {
  if ('problem' in record) throw new ValidationError([{ location: ['line', record.line], message: record.problem }]);
  const created = new Set(model.created.map((field) => field.name));
  const known = new Set(model.fields.map((field) => field.name));
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  // A byte order mark (spreadsheets write one) is not part of the first name.
  const names = record.fields.map((name, index) => (index === 0 ? name.replace(/^\uFEFF/, '') : name));
  names.forEach((name, index) => {
    const where = ['line', record.line, index + 1];
    if (!known.has(name)) issues.push({ location: where, message: `is not a field of a user (${[...known].join(', ')})` });
    else if (seen.has(name)) issues.push({ location: where, message: `repeats the column ${name}` });
    seen.add(name);
  });
  for (const field of model.created) {
    if (field.spec.create === 'required' && !seen.has(field.name)) issues.push({ location: ['line', record.line], message: `must have the column ${field.name}` });
  }
  if (issues.length > 0) {
    throw new ValidationError(issues.slice(0, MAX_LISTED_ISSUES), 'The header row of the CSV is invalid; nothing was created.');
  }
  return names.map((name) => (created.has(name) ? name : undefined));
}

/** A CSV cell as the field's type: an integer field reads a decimal integer; text loses its formula quote. */
function cellValue(model: UserModel, name: string, cell: string): unknown {
  const field = model.created.find((candidate) => candidate.name === name)!;
  if (field.kind === 'integer') return /^-?\d{1,15}$/.test(cell) ? Number(cell) : cell;
  return restoreFormulaText(cell);
}

/** How an import treats its rows. */
export interface ImportOptions {
  /** All or none: any refused row and nothing is created. */
  atomic: boolean;
}

/**
 * Imports the rows into `report` as they come. Default: per row, in batches of IMPORT_BATCH_ROWS, each committed in
 * one transaction; a refused row is reported and the others are created. A source that fails (the upload is cut or
 * too large) stops the import: the batch being read is dropped, the committed ones stay (report.last_line says
 * up to where). atomic: the rows are held until the end (at most ATOMIC_MAX_ROWS) and, if none is refused by
 * validation or as a duplicate within the upload, inserted in one transaction, all or none (a 422 otherwise).
 */
export async function importUsers(
  users: UsersRepository,
  model: UserModel,
  rows: AsyncIterable<ImportRow>,
  options: ImportOptions,
  report: ImportReport,
): Promise<void> {
  let issuesSeen = 0;
  const note = (problems: ValidationIssue[]) => {
    for (const issue of problems) {
      if (issuesSeen++ < MAX_LISTED_ISSUES) report.errors.push(issue);
    }
    if (issuesSeen > MAX_LISTED_ISSUES) report.errors_omitted = issuesSeen - MAX_LISTED_ISSUES;
  };
  const unique = uniqueCreateField(model);
  const taken = (line: number): ValidationIssue => ({
    location: ['line', line, unique?.name ?? 'body'],
    message: 'is already used by another user or by an earlier line of this upload',
  });

  if (options.atomic) {
    const accepted: { line: number; user: UserCreate }[] = [];
    const problems: ValidationIssue[] = [];
    let refused = 0;
    // Duplicates within the upload are found here: the insert would find them too, but only on a valid upload.
    const keys = new Set<string>();
    for await (const row of rows) {
      if (accepted.length + refused >= ATOMIC_MAX_ROWS) throw new TooManyRowsError();
      report.last_line = row.line;
      if ('problems' in row) {
        refused++;
        problems.push(...row.problems);
        continue;
      }
      const key = unique && foldAscii(String((row.user as Record<string, unknown>)[unique.name]));
      if (key !== undefined && keys.has(key)) {
        refused++;
        problems.push(taken(row.line));
        continue;
      }
      if (key !== undefined) keys.add(key);
      accepted.push(row);
    }
    if (refused === 0 && accepted.length > 0) {
      const indexes = await users.insertAllOrNone(accepted.map((row) => row.user));
      refused = indexes.length;
      problems.push(...indexes.map((index) => taken(accepted[index]!.line)));
    }
    if (refused > 0) {
      const issues = Object.assign(problems.slice(0, MAX_LISTED_ISSUES), { omitted: Math.max(0, problems.length - MAX_LISTED_ISSUES) });
      throw new ValidationError(issues, `${refused} rows are refused; nothing was created (atomic=true). errors lists the problems by line.`);
    }
    report.created = accepted.length;
    return;
  }

  let batch: { line: number; user: UserCreate }[] = [];
  let batchProblems: ValidationIssue[] = [];
  let batchRefused = 0;
  let lastLine = report.last_line;
  const flush = async () => {
    if (batch.length > 0) {
      const created = await users.insertMany(batch.map((row) => row.user));
      created.forEach((ok, index) => {
        if (ok) report.created++;
        else {
          batchRefused++;
          batchProblems.push(taken(batch[index]!.line));
        }
      });
    }
    // Only now are the batch's rows settled: refused rows too, so that a resumed upload reports each row once.
    batchProblems.sort((a, b) => (a.location[1] as number) - (b.location[1] as number));
    note(batchProblems);
    report.refused += batchRefused;
    report.last_line = lastLine;
    batch = [];
    batchProblems = [];
    batchRefused = 0;
  };
  for await (const row of rows) {
    lastLine = row.line;
    if ('problems' in row) {
      batchRefused++;
      batchProblems.push(...row.problems);
    } else {
      batch.push(row);
    }
    if (batch.length + batchRefused >= IMPORT_BATCH_ROWS) await flush();
  }
  await flush();
}

/** An empty report, filled in by importUsers. */
export const emptyReport = (): ImportReport => ({ created: 0, refused: 0, last_line: 0, errors: [] });

