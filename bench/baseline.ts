import { randomUUID } from 'node:crypto';
import { write } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import BetterSqlite3 from 'better-sqlite3';
import type { FieldDefinition } from '../src/users/users.schemas.js';

// The bare baseline: the same routes as the service done by hand with node:http and better-sqlite3, no framework.
// Same SQLite settings, same response headers, the same one-line JSON access log per request written the way
// pino writes it (asynchronous fs.write to fd 1, lines queued while a write is in flight). The harness compiles
// this file to plain JavaScript so the baseline pays no TypeScript loader at run time.
//
// The user's fields (columns, which ones a create and a PATCH take, their rules) are the declaration's
// (src/users/users.fields.ts): the harness passes the model's fields as JSON in BASELINE_FIELDS, so the baseline
// loads no TypeBox (it would weigh on its memory); run on its own (node --import tsx bench/baseline.ts), it reads the model.
//
// Environment: PORT, HOST (127.0.0.1), BASELINE_DB (a SQLite file; the table is created if missing), BASELINE_FIELDS.

const PORT = Number(process.env['PORT'] ?? 8001);
const HOST = process.env['HOST'] ?? '127.0.0.1';
const FILE = process.env['BASELINE_DB'] ?? './data/baseline.db';
const BODY_LIMIT = 1048576;

/** A field as the baseline reads it: the model's FieldDefinition, as JSON. */
type Field = Pick<FieldDefinition, 'name' | 'kind' | 'nullable'> & {
  spec: Pick<FieldDefinition['spec'], 'create' | 'patch' | 'sort' | 'unique' | 'search'> & {
    schema: { minLength?: number; maxLength?: number; minimum?: number; maximum?: number; format?: string; pattern?: string };
  };
};
const FIELD_LIST: Field[] = process.env['BASELINE_FIELDS']
  ? (JSON.parse(process.env['BASELINE_FIELDS']) as Field[])
  : (await import('../src/users/users.schemas.js')).userModel.fields;
const CREATED = FIELD_LIST.filter((field) => field.spec.create !== undefined);
const PATCHED = FIELD_LIST.filter((field) => field.spec.patch === true);

const db = new BetterSqlite3(FILE, { timeout: 5000 });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
// The service's writes keep their undo journals in memory (src/db/group-commit.ts); its reads never sort here.
db.pragma('temp_store = MEMORY');
// The service's tables and indexes, for a standalone run; the harness gives it a file made by the real migrations.
const NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
const columnOf = (field: Field) => {
  if (field.name === 'id') return 'id integer PRIMARY KEY AUTOINCREMENT NOT NULL';
  if (field.kind === 'timestamp' && field.spec.create === undefined) return `${field.name} text DEFAULT (${NOW}) NOT NULL`;
  return `${field.name} ${field.kind === 'integer' ? 'integer' : 'text'}${field.nullable ? '' : ' NOT NULL'}`;
};
const checksOf = (field: Field) => {
  const { minimum, maximum } = field.spec.schema;
  if (field.kind !== 'integer' || minimum === undefined || maximum === undefined) return [];
  return [`CONSTRAINT users_${field.name}_range CHECK(${field.name} IS NULL OR ${field.name} BETWEEN ${minimum} AND ${maximum})`];
};
// A unique field's index on lower() serves its sort too; every other sort has an index on (its expression, id).
const indexOf = (field: Field) => {
  if (field.spec.unique === 'caseless') return [`CREATE UNIQUE INDEX IF NOT EXISTS users_${field.name}_lower_uq ON users (lower(${field.name}));`];
  if (field.spec.sort === undefined || field.name === 'id') return [];
  return [`CREATE INDEX IF NOT EXISTS users_${field.name}_id_idx ON users (${field.spec.sort}, id);`];
};
db.exec(`
  CREATE TABLE IF NOT EXISTS users (
    ${[...FIELD_LIST.map(columnOf), ...FIELD_LIST.flatMap(checksOf)].join(',\n    ')}
  );
  ${FIELD_LIST.flatMap(indexOf).join('\n  ')}
  CREATE TABLE IF NOT EXISTS users_count (id integer PRIMARY KEY NOT NULL, n integer NOT NULL);
  INSERT INTO users_count (id, n) SELECT 1, (SELECT count(*) FROM users) WHERE NOT EXISTS (SELECT 1 FROM users_count);
  CREATE TRIGGER IF NOT EXISTS users_count_after_insert AFTER INSERT ON users BEGIN
    UPDATE users_count SET n = n + 1 WHERE id = 1;
  END;
  CREATE TRIGGER IF NOT EXISTS users_count_after_delete AFTER DELETE ON users BEGIN
    UPDATE users_count SET n = n - 1 WHERE id = 1;
  END;
`);

const COLUMNS = FIELD_LIST.map((field) => field.name).join(', ');
const ping = db.prepare('SELECT n FROM users_count WHERE id = 1');
const findById = db.prepare(`SELECT ${COLUMNS} FROM users WHERE id = ?`);
const listPage = db.prepare(`SELECT ${COLUMNS} FROM users ORDER BY id LIMIT ? OFFSET ?`);
const insert = db.prepare(
  `INSERT INTO users (${CREATED.map((field) => field.name).join(', ')}) VALUES (${CREATED.map(() => '?').join(', ')}) RETURNING ${COLUMNS}`,
);
const updates = new Map<string, BetterSqlite3.Statement>();

// The service's file (migration 0007) notes changed users for its search index, which the service brings up to
// the table before each COMMIT (src/users/users.sql.sqlite.ts, syncSearchIndex). The same work here: each write is
// a transaction of its own that does it (what the service's group commit does for a write alone).
const SEARCHED = FIELD_LIST.filter((field) => field.spec.search === true).map((field) => field.name);
const notesSearch = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'users_fts_pending'").get() !== undefined;
const searchIndex = notesSearch
  ? {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      state: db.prepare('SELECT coalesce(max(id), 0) AS upTo, EXISTS (SELECT 1 FROM users_fts_pending) AS noted FROM users_fts_docsize'),
      newUsers: db.prepare(`INSERT INTO users_fts (users_fts, rowid, ${SEARCHED.join(', ')}) SELECT NULL, id, ${SEARCHED.join(', ')} FROM users WHERE id > ?`),
      notes: db.prepare(
        `INSERT INTO users_fts (users_fts, rowid, ${SEARCHED.join(', ')})
         SELECT 'delete', id, ${SEARCHED.join(', ')} FROM users_fts_pending WHERE indexed = 1
         UNION ALL SELECT NULL, users.id, ${SEARCHED.map((name) => `users.${name}`).join(', ')} FROM users_fts_pending JOIN users USING (id)
         UNION ALL SELECT NULL, id, ${SEARCHED.join(', ')} FROM users WHERE id > ?`,
      ),
      clear: db.prepare('DELETE FROM users_fts_pending'),
    }
  : undefined;
function written<T>(run: () => T): T {
  if (!searchIndex) return run();
  searchIndex.begin.run();
  try {
    const result = run();
    const { upTo, noted } = searchIndex.state.get() as { upTo: number; noted: number };
    if (noted === 0) searchIndex.newUsers.run(upTo);
    else {
      searchIndex.notes.run(upTo);
      searchIndex.clear.run();
    }
    searchIndex.commit.run();
    return result;
  } catch (error) {
    if (db.inTransaction) searchIndex.rollback.run();
    throw error;
  }
}
// Writes with RETURNING are stepped to the end with .all(), as the service does: .get() stops at the first row,
// and a stream of such writes keeps the WAL from ever being reset (it grew to gigabytes in seconds under POST load).

// --- the access log, as pino writes it ------------------------------------------------------------------------
const LOG_PREFIX = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;
let queued = '';
let writing = false;
function flushLog(): void {
  writing = true;
  const chunk = Buffer.from(queued);
  queued = '';
  write(1, chunk, (error, written) => {
    writing = false;
    if (!error && written < chunk.length) queued = chunk.subarray(written).toString() + queued;
    if (queued) flushLog();
  });
}
function log(line: string): void {
  queued += line;
  if (!writing) flushLog();
}
function accessLog(id: string, req: IncomingMessage, res: ServerResponse, started: number): void {
  const ms = Math.round((performance.now() - started) * 100) / 100;
  log(
    `{"level":30,"time":${Date.now()}${LOG_PREFIX},"request_id":${JSON.stringify(id)},"method":${JSON.stringify(req.method)},` +
      `"url":${JSON.stringify(req.url)},"status":${res.statusCode},"ms":${ms},"msg":"request"}\n`,
  );
}

// --- responses --------------------------------------------------------------------------------------------------
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function send(res: ServerResponse, id: string, status: number, body: string, type = 'application/json; charset=utf-8', extra?: Record<string, string>): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'x-request-id': id,
    ...extra,
    'content-type': type,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function problem(res: ServerResponse, id: string, status: number, code: string, detail: string, extra?: Record<string, string>): void {
  const body = JSON.stringify({ type: 'about:blank', title: code, status, detail, code });
  send(res, id, status, body, 'application/problem+json', extra);
}

// --- minimal hand validation, by the declared rules of each field -----------------------------------------------
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const PATTERNS = new Map(FIELD_LIST.flatMap((field) => (field.spec.schema.pattern ? [[field.name, new RegExp(field.spec.schema.pattern, 'u')]] : [])));
/** Whether a value is valid for a field (text lengths in UTF-16 units: a rough check, as a hand-written server does). */
function validValue(field: Field, v: unknown): boolean {
  if (v === null) return field.nullable;
  const { minLength = 0, maxLength = Infinity, minimum = -Infinity, maximum = Infinity, format } = field.spec.schema;
  if (field.kind === 'integer') return Number.isInteger(v) && (v as number) >= minimum && (v as number) <= maximum;
  if (typeof v !== 'string' || v.length < minLength || v.length > maxLength) return false;
  if (format === 'email' && !EMAIL.test(v)) return false;
  return PATTERNS.get(field.name)?.test(v) ?? true;
}
const ALLOWED = new Set([...CREATED, ...PATCHED].map((field) => field.name));

/** The invalid fields of a body; `partial` for PATCH (every field optional). */
function invalidFields(body: Record<string, unknown>, partial: boolean): string[] {
  const bad: string[] = [];
  for (const key of Object.keys(body)) if (!ALLOWED.has(key)) bad.push(key);
  for (const field of partial ? PATCHED : CREATED) {
    const value = body[field.name];
    if (value === undefined ? !partial && field.spec.create === 'required' : !validValue(field, value)) bad.push(field.name);
  }
  return bad;
}

function readJson(req: IncomingMessage, res: ServerResponse, id: string, then: (body: Record<string, unknown>) => void): void {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    req.resume();
    return problem(res, id, 415, 'UNSUPPORTED_MEDIA_TYPE', 'The body must be sent as application/json.');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > BODY_LIMIT && !failed) {
      failed = true;
      problem(res, id, 413, 'BODY_TOO_LARGE', 'The body is larger than the limit.');
    }
    if (!failed) chunks.push(chunk);
  });
  req.on('end', () => {
    if (failed) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return problem(res, id, 400, 'INVALID_JSON', 'The body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return problem(res, id, 422, 'VALIDATION_FAILED', 'The body must be a JSON object.');
    }
    try {
      then(body as Record<string, unknown>);
    } catch {
      if (!res.headersSent) problem(res, id, 500, 'INTERNAL_ERROR', 'An unexpected error occurred.');
    }
  });
}

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';

// --- routes -----------------------------------------------------------------------------------------------------
function parseId(text: string): number | undefined {
  if (!/^[0-9]{1,15}$/.test(text)) return undefined;
  const id = Number(text);
  return id >= 1 ? id : undefined;
}

function intParam(value: string | null, fallback: number, min: number, max: number): number | undefined {
  if (value === null) return fallback;
  if (!/^[0-9]{1,15}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

function listUsers(res: ServerResponse, id: string, query: string): void {
  const params = new URLSearchParams(query);
  const limit = intParam(params.get('limit'), 100, 1, 100);
  const offset = intParam(params.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
  if (limit === undefined || offset === undefined) {
    return problem(res, id, 422, 'VALIDATION_FAILED', 'limit must be 1-100 and offset 0 or more.');
  }
  send(res, id, 200, JSON.stringify(listPage.all(limit, offset)));
}

function createUser(res: ServerResponse, id: string, body: Record<string, unknown>): void {
  const bad = invalidFields(body, false);
  if (bad.length > 0) return problem(res, id, 422, 'VALIDATION_FAILED', `Invalid fields: ${bad.join(', ')}.`);
  try {
    const user = written(() => insert.all(...CREATED.map((field) => body[field.name] ?? null))[0] as { id: number });
    send(res, id, 201, JSON.stringify(user), undefined, { location: `/users/${user.id}` });
  } catch (error) {
    if (isUniqueViolation(error)) return problem(res, id, 409, 'EMAIL_TAKEN', 'This email is already used by another user.');
    throw error;
  }
}

function updateUser(res: ServerResponse, id: string, userId: number, body: Record<string, unknown>): void {
  const bad = invalidFields(body, true);
  if (bad.length > 0) return problem(res, id, 422, 'VALIDATION_FAILED', `Invalid fields: ${bad.join(', ')}.`);
  const fields = PATCHED.map((field) => field.name).filter((field) => body[field] !== undefined);
  let user: unknown;
  try {
    if (fields.length === 0) {
      user = findById.get(userId);
    } else {
      const key = fields.join(',');
      let statement = updates.get(key);
      if (!statement) {
        const set = fields.map((field) => `${field} = ?`).join(', ');
        statement = db.prepare(`UPDATE users SET ${set}, updated_at = ${NOW} WHERE id = ? RETURNING ${COLUMNS}`);
        updates.set(key, statement);
      }
      const update = statement;
      user = written(() => update.all(...fields.map((field) => body[field]), userId)[0]);
    }
  } catch (error) {
    if (isUniqueViolation(error)) return problem(res, id, 409, 'EMAIL_TAKEN', 'This email is already used by another user.');
    throw error;
  }
  if (user === undefined) return problem(res, id, 404, 'USER_NOT_FOUND', 'User not found');
  send(res, id, 200, JSON.stringify(user));
}

function route(req: IncomingMessage, res: ServerResponse, id: string): void {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const method = req.method ?? 'GET';
  if (path === '/healthcheck' && method === 'GET') {
    ping.get();
    return send(res, id, 200, '{"status":"ok","message":"The service is healthy"}');
  }
  if (path === '/users/' || path === '/users') {
    if (method === 'GET') return listUsers(res, id, mark === -1 ? '' : url.slice(mark + 1));
    if (method === 'POST') return readJson(req, res, id, (body) => createUser(res, id, body));
    return problem(res, id, 405, 'METHOD_NOT_ALLOWED', 'Use GET or POST.', { allow: 'GET, POST' });
  }
  if (path.startsWith('/users/')) {
    const userId = parseId(path.slice('/users/'.length).replace(/\/$/, ''));
    if (userId === undefined) return problem(res, id, 422, 'VALIDATION_FAILED', 'user_id must be a positive integer.');
    if (method === 'GET') {
      const user = findById.get(userId);
      if (user === undefined) return problem(res, id, 404, 'USER_NOT_FOUND', 'User not found');
      return send(res, id, 200, JSON.stringify(user));
    }
    if (method === 'PATCH') return readJson(req, res, id, (body) => updateUser(res, id, userId, body));
    return problem(res, id, 405, 'METHOD_NOT_ALLOWED', 'Use GET or PATCH.', { allow: 'GET, PATCH' });
  }
  return problem(res, id, 404, 'NOT_FOUND', 'There is nothing at this address.');
}

const server = createServer((req, res) => {
  const started = performance.now();
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
  res.on('finish', () => accessLog(id, req, res, started));
  try {
    route(req, res, id);
  } catch {
    if (!res.headersSent) problem(res, id, 500, 'INTERNAL_ERROR', 'An unexpected error occurred.');
  }
});
// As Fastify configures its server.
server.keepAliveTimeout = 72000;
server.listen(PORT, HOST, () => {
  log(`{"level":30,"time":${Date.now()}${LOG_PREFIX},"msg":"Server listening at http://${HOST}:${PORT}"}\n`);
});
const stop = () => server.close(() => db.close());
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
