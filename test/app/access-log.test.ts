import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase } from '../helpers/database.js';

// The access line is written by hand (src/http/access-log.ts): it must stay the line pino itself writes for
// `request.log.info({ method, url, status, ms }, 'request')`, key order included, so that log tooling sees no change.

/** A stream that keeps every line written to it. */
function lineStream(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe('access log', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  const { stream, lines } = lineStream();

  before(async () => {
    const config = loadConfig({ LOG_LEVEL: 'info', DATABASE_URL: ':memory:' });
    const created = await createTestDatabase('sqlite', config);
    app = await buildApp(config, { database: created.database, users: created.users, logger: { level: 'info', stream } });
    await app.ready();
    close = async () => {
      await app.close();
      await created.drop();
    };
  });
  after(() => close());

  const accessLines = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['msg'] === 'request');

  it('writes the line pino writes for the same fields, in the same order', async () => {
    const url = '/users/12345?x="quoted"\\&é';
    const response = await app.inject({ method: 'GET', url, headers: { 'x-request-id': 'given-id.1', traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` } });
    assert.equal(response.statusCode, 404);
    const written = lines.find((line) => line.includes('"msg":"request"') && line.includes('given-id.1'));
    assert.ok(written, 'an access line for the request');
    const line = JSON.parse(written) as Record<string, unknown>;
    // As the request line carried it (inject percent-encodes what a URL may not hold); the backslash needs JSON's escape.
    assert.match(String(line['url']), /^\/users\/12345\?x=%22quoted%22\\&%C3%A9$/);

    // pino's own line for the same values, from a logger with the same base fields and the request's bindings.
    const reference = lineStream();
    const logger = pino({ level: 'info' }, reference.stream).child({ request_id: 'given-id.1', trace_id: 'ab'.repeat(16) });
    logger.info({ method: 'GET', url: line['url'], status: 404, ms: line['ms'] }, 'request');
    await new Promise((resolve) => setImmediate(resolve));
    const expected = JSON.parse(reference.lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(line), Object.keys(expected));
    assert.deepEqual({ ...line, time: 0 }, { ...expected, time: 0 });
    assert.equal(typeof line['time'], 'number');
  });

  it('writes nothing below info, and again once the level allows it', async () => {
    const before = accessLines().length;
    app.log.level = 'warn';
    await app.inject({ method: 'GET', url: '/healthcheck' });
    assert.equal(accessLines().length, before);
    app.log.level = 'info';
    await app.inject({ method: 'GET', url: '/healthcheck' });
    assert.equal(accessLines().length, before + 1);
  });
});
