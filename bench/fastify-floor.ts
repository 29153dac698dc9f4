// The least a Fastify server on this stack does for GET /users/{id}: what Fastify itself costs next to bench/naive.ts,
// and what each of the service's per-request features costs when added to it alone (docs/PERFORMANCE.md, "Third
// pass"). Not part of `npm run bench`: started by hand, side by side with the other servers.
//
//   DB=<a seeded service database> PORT=8202 [FLOOR_LOG=info|warn] [FEATURES=headers,schema,serializer] \
//     node --import tsx bench/fastify-floor.ts
//
// FLOOR_LOG: a pino logger at that level with one access line per request, through Fastify's logger (as the service
// did before its hand-written line). FEATURES: headers (the service's four security headers, X-Request-Id and a
// traceparent, from an onRequest hook), schema (params validated by Fastify's ajv), serializer (a response schema,
// fast-json-stringify, and an ETag).
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import pino from 'pino';

const db = new BetterSqlite3(process.env['DB'] ?? './data/users.db');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const COLUMNS = 'id, first_name, last_name, age, email, created_at, updated_at';
const findById = db.prepare(`SELECT ${COLUMNS} FROM users WHERE id = ?`);
const features = new Set((process.env['FEATURES'] ?? '').split(','));
const level = process.env['FLOOR_LOG'];

class AccessLine extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(_error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    reply.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 1000) / 1000 }, 'request');
  }
}

const app = Fastify({
  logger: level ? { level, stream: pino.destination({ dest: 1, sync: true, minLength: 4095, maxWrite: 4096 }) } : false,
  ...(level && { logController: new AccessLine() }),
});

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};
if (features.has('headers')) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    reply.headers({ 'x-request-id': request.id, traceparent: `00-${randomUUID().replaceAll('-', '')}-0123456789abcdef-00` });
    done();
  });
}

const schema = {
  ...(features.has('schema') && { params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } }),
  ...(features.has('serializer') && {
    response: {
      200: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          first_name: { type: 'string' },
          last_name: { type: 'string' },
          age: { type: ['integer', 'null'] },
          email: { type: 'string' },
          created_at: { type: 'string' },
          updated_at: { type: 'string' },
        },
      },
    },
  }),
};

app.get('/users/:id', { schema }, (request, reply) => {
  const id = Number((request.params as { id: string }).id);
  const row = Number.isInteger(id) && id > 0 ? (findById.get(id) as { updated_at: string } | undefined) : undefined;
  if (!row) return void reply.code(404).type('application/json').send('{"error":"not found"}');
  if (features.has('serializer')) return void reply.header('etag', `"${row.updated_at}"`).send(row);
  reply.type('application/json').send(JSON.stringify(row));
});
app.get('/healthcheck', (_request, reply) => {
  reply.type('application/json').send('{"status":"ok"}');
});
await app.listen({ port: Number(process.env['PORT'] ?? 8202), host: '127.0.0.1' });
