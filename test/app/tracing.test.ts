import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { loggableBug } from '../../src/http/outage-log.js';
import { TEST_DIALECTS, createTestDatabase } from '../helpers/database.js';
import type { UsersRepository } from '../../src/users/users.repository.js';

// W3C Trace Context: a valid traceparent is taken up (its trace id, its flags), the answer carries it on with this
// server's own span id, and every log line of the request names the trace; any other value starts a new trace.

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const CALLER = { trace: '4bf92f3577b34da6a3ce929d0e0e4736', span: '00f067aa0ba902b7' };

const parse = (header: unknown) => {
  const match = TRACEPARENT.exec(String(header));
  assert.ok(match, `a valid traceparent is answered: ${String(header)}`);
  return { trace: match[1]!, span: match[2]!, flags: match[3]! };
};

for (const dialect of TEST_DIALECTS) describe(`request tracing with traceparent (${dialect})`, () => {
  let app: FastifyInstance;
  let users: UsersRepository;
  let drop: () => Promise<void>;
  let close: () => Promise<void>;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const config = loadConfig({ LOG_LEVEL: 'info', DATABASE_URL: ':memory:' });
    const created = await createTestDatabase(dialect, config);
    users = created.users;
    drop = created.drop;
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    // The app's own logger options, on a stream the test reads (buildApp writes to stdout otherwise).
    app = await buildApp(config, { database: created.database, users, logger: { level: 'info', stream, serializers: { err: loggableBug } } });
    close = async () => {
      await app.close();
      await created.database.close();
    };
  });
  after(async () => {
    await close();
    await drop();
  });

  it('continues the trace of a valid traceparent: same trace id and flags, a span id of its own', async () => {
    const response = await app.inject({ method: 'GET', url: '/users/', headers: { traceparent: `00-${CALLER.trace}-${CALLER.span}-01` } });
    assert.equal(response.statusCode, 200);
    const answered = parse(response.headers.traceparent);
    assert.equal(answered.trace, CALLER.trace);
    assert.equal(answered.flags, '01');
    assert.notEqual(answered.span, CALLER.span, "the answer's parent id is this server's span, not the caller's");
    assert.notEqual(answered.span, '0'.repeat(16));
  });

  it('takes up a later version with extra fields, and ignores what follows the four known ones', async () => {
    const response = await app.inject({ method: 'GET', url: '/livez', headers: { traceparent: `cc-${CALLER.trace}-${CALLER.span}-01-whatever` } });
    assert.equal(parse(response.headers.traceparent).trace, CALLER.trace);
  });

  it('starts a new trace for a missing or invalid traceparent', async () => {
    const invalid = [
      undefined,
      `00-${CALLER.trace.toUpperCase()}-${CALLER.span}-01`, // uppercase hex
      `ff-${CALLER.trace}-${CALLER.span}-01`, // version ff
      `00-${'0'.repeat(32)}-${CALLER.span}-01`, // all-zero trace id
      `00-${CALLER.trace}-${'0'.repeat(16)}-01`, // all-zero parent id
      `00-${CALLER.trace}-${CALLER.span}-01-extra`, // version 00 has exactly four fields
      `00-${CALLER.trace.slice(1)}-${CALLER.span}-01`, // short trace id
      'garbage',
    ];
    const traces = new Set<string>();
    for (const traceparent of invalid) {
      const response = await app.inject({ method: 'GET', url: '/livez', headers: traceparent ? { traceparent } : {} });
      assert.equal(response.statusCode, 200);
      const answered = parse(response.headers.traceparent);
      assert.notEqual(answered.trace, CALLER.trace, `${traceparent}: a new trace`);
      assert.equal(answered.flags, '00', 'a trace started here is not sampled by anyone');
      traces.add(answered.trace);
    }
    assert.equal(traces.size, invalid.length, 'every request starts a trace of its own');
  });

  it('answers an error with the trace too, and names the trace in every log line of the request', async () => {
    const original = users.findById;
    users.findById = async () => {
      throw new Error('an unexpected failure');
    };
    const before = lines.length;
    try {
      const response = await app.inject({
        method: 'GET',
        url: '/users/7',
        headers: { traceparent: `00-${CALLER.trace}-${CALLER.span}-01`, 'x-request-id': 'traced-500' },
      });
      assert.equal(response.statusCode, 500);
      assert.equal(parse(response.headers.traceparent).trace, CALLER.trace);
    } finally {
      users.findById = original;
    }
    const logged = lines.slice(before).filter((line) => line['request_id'] === 'traced-500');
    assert.ok(logged.length >= 2, `the error and the access line are logged: ${JSON.stringify(logged)}`);
    for (const line of logged) assert.equal(line['trace_id'], CALLER.trace, JSON.stringify(line));
    assert.ok(logged.some((line) => line['msg'] === 'request' && line['status'] === 500));
  });

  it('answers a URL that cannot be decoded (before routing) with a trace as well', async () => {
    const response = await app.inject({ method: 'GET', url: '/users/%FF', headers: { traceparent: `00-${CALLER.trace}-${CALLER.span}-01` } });
    assert.equal(response.statusCode, 400);
    assert.equal(parse(response.headers.traceparent).trace, CALLER.trace);
  });
});
