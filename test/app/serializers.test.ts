import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSharedSerializers } from '../../src/http/serializers.js';

describe('response serializers', () => {
  const problem = {
    $id: 'Problem',
    type: 'object',
    properties: { status: { type: 'integer' }, code: { type: 'string' } },
  };
  const compile = buildSharedSerializers({ Problem: problem }, {});
  const route = (schema: unknown, httpStatus = '404') => ({ method: 'GET', url: '/users/:id', httpStatus, schema });

  it('compiles equal schemas once, whatever route and status declare them', () => {
    const first = compile(route({ $ref: 'Problem#' }, '404'));
    const second = compile({ ...route({ $ref: 'Problem#' }, '409'), url: '/users/' });
    assert.equal(first, second);
    assert.equal(first({ status: 404, code: 'USER_NOT_FOUND', secret: 'x' }), '{"status":404,"code":"USER_NOT_FOUND"}');
  });

  it('compiles different schemas apart', () => {
    const problems = compile(route({ $ref: 'Problem#' }));
    const health = compile(route({ type: 'object', properties: { status: { type: 'string' } } }, '200'));
    assert.notEqual(problems, health);
    assert.equal(health({ status: 'ok', code: 'dropped' }), '{"status":"ok"}');
  });
});
