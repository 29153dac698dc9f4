import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import BetterSqlite3 from 'better-sqlite3';

// The naive limit: the least work a server on this stack can do for the service's four operations. Bare
// node:http and better-sqlite3, no framework, no log, no headers but the content type and length, a users
// table with the service's columns and one index besides the primary key (the email, unique case-insensitively),
// WAL with synchronous=NORMAL, prepared statements, JSON.stringify of the rows, minimal validation by hand.
// What the service does beyond this (access log, security headers, request ids, schema validation, ETags, the
// sort and search indexes, counts, AUTOINCREMENT ids, idempotency keys, ...) is what the ratio to it prices.
// The harness compiles this file to plain JavaScript and copies the seeded users into the table
// (bench/seed.ts copyUsers, which checks that the columns are the service's).
//
// Environment: PORT, HOST (127.0.0.1), NAIVE_DB (a SQLite file; the table is created if missing).

const PORT = Number(process.env['PORT'] ?? 8002);
const HOST = process.env['HOST'] ?? '127.0.0.1';
const FILE = process.env['NAIVE_DB'] ?? './data/naive.db';
const BODY_LIMIT = 1048576;

const db = new BetterSqlite3(FILE, { timeout: 5000 });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
db.exec(`
  CREATE TABLE IF NOT EXISTS users (
    id integer PRIMARY KEY NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    age integer,
    email text NOT NULL,
    created_at text DEFAULT (${NOW}) NOT NULL,
    updated_at text DEFAULT (${NOW}) NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower_uq ON users (lower(email));
`);

const COLUMNS = 'id, first_name, last_name, age, email, created_at, updated_at';
const PATCHABLE = ['first_name', 'last_name', 'age', 'email'] as const;
const ping = db.prepare('SELECT 1');
const findById = db.prepare(`SELECT ${COLUMNS} FROM users WHERE id = ?`);
const listPage = db.prepare(`SELECT ${COLUMNS} FROM users ORDER BY id LIMIT ? OFFSET ?`);
// Writes with RETURNING are stepped to the end with .all(): .get() would leave the statement open, and the WAL
// could then never be reset under a stream of writes.
const insert = db.prepare(`INSERT INTO users (first_name, last_name, age, email) VALUES (?, ?, ?, ?) RETURNING ${COLUMNS}`);
/** One UPDATE per set of patched fields, prepared at first use (at most 15). */
const updates = new Map<string, BetterSqlite3.Statement>();

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const fail = (res: ServerResponse, status: number, error: string) => send(res, status, JSON.stringify({ error }));

const isName = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 100;
const isEmail = (v: unknown) => typeof v === 'string' && v.length <= 254 && /^[^@\s]+@[^@\s]+$/.test(v);
const isAge = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 150);
const VALID: Record<(typeof PATCHABLE)[number], (v: unknown) => boolean> = { first_name: isName, last_name: isName, age: isAge, email: isEmail };

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';

function readBody(req: IncomingMessage, res: ServerResponse, then: (body: Record<string, unknown>) => void): void {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    text += chunk;
    if (text.length > BODY_LIMIT) req.destroy();
  });
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail(res, 400, 'invalid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail(res, 422, 'the body must be an object');
    try {
      then(body as Record<string, unknown>);
    } catch (error) {
      if (isUniqueViolation(error)) return fail(res, 409, 'email taken');
      fail(res, 500, 'internal error');
    }
  });
}

function createUser(res: ServerResponse, body: Record<string, unknown>): void {
  const { first_name, last_name, age = null, email } = body;
  if (!isName(first_name) || !isName(last_name) || !isAge(age) || !isEmail(email)) return fail(res, 422, 'invalid user');
  send(res, 201, JSON.stringify(insert.all(first_name, last_name, age, email)[0]));
}

function updateUser(res: ServerResponse, id: number, body: Record<string, unknown>): void {
  const fields = PATCHABLE.filter((field) => body[field] !== undefined);
  if (!fields.every((field) => VALID[field](body[field]))) return fail(res, 422, 'invalid user');
  let user: unknown;
  if (fields.length === 0) {
    user = findById.get(id);
  } else {
    const key = fields.join(',');
    let update = updates.get(key);
    if (!update) {
      update = db.prepare(`UPDATE users SET ${fields.map((field) => `${field} = ?`).join(', ')}, updated_at = ${NOW} WHERE id = ? RETURNING ${COLUMNS}`);
      updates.set(key, update);
    }
    user = update.all(...fields.map((field) => body[field]), id)[0];
  }
  if (user === undefined) return fail(res, 404, 'not found');
  send(res, 200, JSON.stringify(user));
}

function listUsers(res: ServerResponse, query: string): void {
  const params = new URLSearchParams(query);
  const limit = Number(params.get('limit') ?? 100);
  const offset = Number(params.get('offset') ?? 0);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(offset) || offset < 0) return fail(res, 422, 'invalid limit or offset');
  send(res, 200, JSON.stringify(listPage.all(limit, offset)));
}

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  if (path === '/users/' || path === '/users') {
    if (req.method === 'GET') return listUsers(res, mark === -1 ? '' : url.slice(mark + 1));
    if (req.method === 'POST') return readBody(req, res, (body) => createUser(res, body));
  } else if (path.startsWith('/users/')) {
    const id = Number(path.slice('/users/'.length));
    if (!Number.isSafeInteger(id) || id < 1) return fail(res, 422, 'invalid id');
    if (req.method === 'GET') {
      const user = findById.get(id);
      return user === undefined ? fail(res, 404, 'not found') : send(res, 200, JSON.stringify(user));
    }
    if (req.method === 'PATCH') return readBody(req, res, (body) => updateUser(res, id, body));
  } else if (path === '/healthcheck' && req.method === 'GET') {
    ping.get();
    return send(res, 200, '{"status":"ok"}');
  }
  fail(res, 404, 'not found');
}

const server = createServer((req, res) => {
  try {
    route(req, res);
  } catch {
    if (!res.headersSent) fail(res, 500, 'internal error');
  }
});
server.listen(PORT, HOST);
const stop = () => server.close(() => db.close());
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
