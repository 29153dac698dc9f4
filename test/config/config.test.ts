import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8000);
    assert.equal(config.HOST, '127.0.0.1');
    assert.equal(config.DATABASE_URL, 'file:./data/users.db');
    assert.deepEqual(config.database, { dialect: 'sqlite', filename: './data/users.db' });
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.BODY_LIMIT, 1048576);
    assert.equal(config.SQLITE_SYNCHRONOUS, 'NORMAL');
    assert.ok(Object.isFrozen(config));
  });

  it('reads and converts the variables it knows', () => {
    const config = loadConfig({ PORT: '9000', HOST: '0.0.0.0', BODY_LIMIT: '2048', DATABASE_URL: 'postgres://u@h:5432/db' });
    assert.equal(config.PORT, 9000);
    assert.equal(config.HOST, '0.0.0.0');
    assert.equal(config.BODY_LIMIT, 2048);
    assert.deepEqual(config.database, { dialect: 'postgres', connectionString: 'postgres://u@h:5432/db' });
  });

  it('reports every invalid variable at once', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', SQLITE_SYNCHRONOUS: 'OFF' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.problems.join('\n');
        for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'SQLITE_SYNCHRONOUS']) assert.match(text, new RegExp(name));
        return true;
      },
    );
  });
});
