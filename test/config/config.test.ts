import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';


/** The problems loadConfig reports for this environment (none when it accepts it). */
const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
};

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
    assert.equal(config.SQLITE_CACHE_SIZE_MB, 4);
    assert.equal(config.SQLITE_CHECKPOINT_THREAD, false);
    assert.ok(Object.isFrozen(config));
  });

  it('reads and converts the variables it knows', () => {
    const config = loadConfig({ PORT: '9000', HOST: '0.0.0.0', BODY_LIMIT: '2048', DATABASE_URL: 'postgres://u@h:5432/db' });
    assert.equal(config.PORT, 9000);
    assert.equal(config.HOST, '0.0.0.0');
    assert.equal(config.BODY_LIMIT, 2048);
    assert.deepEqual(config.database, { dialect: 'postgres', connectionString: 'postgres://u@h:5432/db' });
  });

  it('reads a switch as true or false in any case, or 1 or 0, and refuses anything else', () => {
    for (const [text, value] of [['TRUE', true], ['False', false], ['1', true], ['0', false]] as const) {
      assert.equal(loadConfig({ TRUST_PROXY: text }).TRUST_PROXY, value, text);
    }
    for (const text of ['yes', 'on', ' true']) assert.match(problemsOf({ TRUST_PROXY: text }).join('\n'), /^TRUST_PROXY: /, text);
  });

  it('reads the SQLite memory settings, and refuses a page cache of 0 MB and a switch that is not a boolean', () => {
    const config = loadConfig({ SQLITE_CACHE_SIZE_MB: '16', SQLITE_CHECKPOINT_THREAD: 'true' });
    assert.equal(config.SQLITE_CACHE_SIZE_MB, 16);
    assert.equal(config.SQLITE_CHECKPOINT_THREAD, true);
    const problems = problemsOf({ SQLITE_CACHE_SIZE_MB: '0', SQLITE_CHECKPOINT_THREAD: 'maybe' }).join('\n');
    assert.match(problems, /SQLITE_CACHE_SIZE_MB/);
    assert.match(problems, /SQLITE_CHECKPOINT_THREAD/);
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

describe('loadConfig: PostgreSQL waits', () => {
  const POSTGRES = 'postgres://u@h:5432/db';


  it('bounds every wait by default, within a request budget of a few seconds and below the shutdown grace period', () => {
    const config = loadConfig({ DATABASE_URL: POSTGRES });
    assert.equal(config.PG_CONNECT_TIMEOUT_MS, 2000);
    assert.equal(config.PG_STATEMENT_TIMEOUT_MS, 3000);
    assert.equal(config.PG_LOCK_TIMEOUT_MS, 1000);
    assert.equal(config.PG_QUERY_TIMEOUT_MS, 4000);
    assert.equal(config.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS, 5000);
    assert.equal(config.PG_PING_TIMEOUT_MS, 1000);
    assert.equal(config.PG_MIGRATION_STATEMENT_TIMEOUT_MS, 0, "migrations keep the server's statement timeout (normally none)");
    assert.ok(config.PG_LOCK_TIMEOUT_MS <= config.PG_STATEMENT_TIMEOUT_MS);
    assert.ok(config.PG_STATEMENT_TIMEOUT_MS < config.PG_QUERY_TIMEOUT_MS);
    assert.ok(config.PG_CONNECT_TIMEOUT_MS + config.PG_QUERY_TIMEOUT_MS < config.SHUTDOWN_TIMEOUT_MS);
  });

  it('reads the waits from the environment', () => {
    const config = loadConfig({
      DATABASE_URL: POSTGRES,
      PG_CONNECT_TIMEOUT_MS: '500',
      PG_STATEMENT_TIMEOUT_MS: '1000',
      PG_LOCK_TIMEOUT_MS: '300',
      PG_QUERY_TIMEOUT_MS: '1500',
      PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: '2000',
      PG_PING_TIMEOUT_MS: '250',
      PG_MIGRATION_STATEMENT_TIMEOUT_MS: '3600000',
    });
    assert.equal(config.PG_CONNECT_TIMEOUT_MS, 500);
    assert.equal(config.PG_STATEMENT_TIMEOUT_MS, 1000);
    assert.equal(config.PG_LOCK_TIMEOUT_MS, 300);
    assert.equal(config.PG_QUERY_TIMEOUT_MS, 1500);
    assert.equal(config.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS, 2000);
    assert.equal(config.PG_PING_TIMEOUT_MS, 250);
    assert.equal(config.PG_MIGRATION_STATEMENT_TIMEOUT_MS, 3600000);
  });

  it('refuses an unbounded or negative wait of a request (0 is not "no limit")', () => {
    const problems = problemsOf({ DATABASE_URL: POSTGRES, PG_STATEMENT_TIMEOUT_MS: '0', PG_LOCK_TIMEOUT_MS: '-1', PG_PING_TIMEOUT_MS: 'soon' });
    for (const name of ['PG_STATEMENT_TIMEOUT_MS', 'PG_LOCK_TIMEOUT_MS', 'PG_PING_TIMEOUT_MS']) {
      assert.ok(problems.some((problem) => problem.startsWith(`${name}:`)), name);
    }
    assert.ok(problemsOf({ PG_MIGRATION_STATEMENT_TIMEOUT_MS: '-1' }).some((problem) => problem.startsWith('PG_MIGRATION_STATEMENT_TIMEOUT_MS:')));
  });

  it('refuses waits a request in flight at SIGTERM could outlast: it must be answered before the process exits', () => {
    const [problem, ...others] = problemsOf({ DATABASE_URL: POSTGRES, SHUTDOWN_TIMEOUT_MS: '6000' });
    assert.equal(
      problem,
      'SHUTDOWN_DELAY_MS + PG_CONNECT_TIMEOUT_MS + PG_QUERY_TIMEOUT_MS (6000) must be below SHUTDOWN_TIMEOUT_MS (6000): ' +
        'a request waiting on PostgreSQL at SIGTERM must get its answer before the process exits',
    );
    assert.deepEqual(others, []);
    assert.equal(problemsOf({ DATABASE_URL: POSTGRES, SHUTDOWN_TIMEOUT_MS: '6001' }).length, 0);
    const raised = problemsOf({ DATABASE_URL: POSTGRES, PG_STATEMENT_TIMEOUT_MS: '9000', PG_QUERY_TIMEOUT_MS: '9500' });
    assert.match(raised.join('\n'), /PG_CONNECT_TIMEOUT_MS \+ PG_QUERY_TIMEOUT_MS \(11500\) must be below SHUTDOWN_TIMEOUT_MS \(10000\)/);
    assert.deepEqual(problemsOf({ DATABASE_URL: POSTGRES, PG_PING_TIMEOUT_MS: '10000' }), ['PG_PING_TIMEOUT_MS: must be below SHUTDOWN_TIMEOUT_MS']);
  });

  it('counts SHUTDOWN_DELAY_MS in the grace period: the delay and, on PostgreSQL, a request in flight after it must fit', () => {
    assert.equal(loadConfig({}).SHUTDOWN_DELAY_MS, 0);
    assert.equal(loadConfig({ SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '15000' }).SHUTDOWN_DELAY_MS, 5000);
    assert.deepEqual(problemsOf({ SHUTDOWN_DELAY_MS: '10000' }), [
      'SHUTDOWN_DELAY_MS: must be below SHUTDOWN_TIMEOUT_MS (the delay is part of the grace period)',
    ]);
    assert.match(
      problemsOf({ DATABASE_URL: POSTGRES, SHUTDOWN_DELAY_MS: '5000' }).join('\n'),
      /SHUTDOWN_DELAY_MS \+ PG_CONNECT_TIMEOUT_MS \+ PG_QUERY_TIMEOUT_MS \(11000\) must be below SHUTDOWN_TIMEOUT_MS \(10000\)/,
    );
    assert.deepEqual(problemsOf({ DATABASE_URL: POSTGRES, SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '12000' }), []);
  });

  it('leaves metrics off unless METRICS_PORT is set, and never on the API port', () => {
    assert.equal(loadConfig({}).METRICS_PORT, undefined);
    assert.equal(loadConfig({ METRICS_PORT: '9464' }).METRICS_PORT, 9464);
    assert.deepEqual(problemsOf({ METRICS_PORT: '8000' }), [
      'METRICS_PORT: must differ from PORT (metrics have their own listener, never the public one)',
    ]);
    assert.ok(problemsOf({ METRICS_PORT: '0' }).some((problem) => problem.startsWith('METRICS_PORT:')));
  });

  it('gives an import its own body limit, 100 MiB by default', () => {
    assert.equal(loadConfig({}).IMPORT_BODY_LIMIT, 104857600);
    assert.equal(loadConfig({ IMPORT_BODY_LIMIT: '1048576000' }).IMPORT_BODY_LIMIT, 1048576000);
    assert.ok(problemsOf({ IMPORT_BODY_LIMIT: '10' }).some((problem) => problem.startsWith('IMPORT_BODY_LIMIT:')));
  });

  it('does not hold a service on SQLite to the PostgreSQL waits', () => {
    assert.equal(loadConfig({ SHUTDOWN_TIMEOUT_MS: '1000' }).SHUTDOWN_TIMEOUT_MS, 1000);
  });

  it('refuses a client-side query timeout that would fire before the server cancels the statement', () => {
    for (const query of ['3000', '2000']) {
      const problems = problemsOf({ DATABASE_URL: POSTGRES, PG_QUERY_TIMEOUT_MS: query });
      assert.equal(problems.length, 1, query);
      assert.match(problems[0]!, /^PG_QUERY_TIMEOUT_MS: must exceed PG_STATEMENT_TIMEOUT_MS/);
    }
  });

  it('refuses a lock timeout that the statement timeout would always pre-empt', () => {
    assert.deepEqual(problemsOf({ DATABASE_URL: POSTGRES, PG_LOCK_TIMEOUT_MS: '3001' }), [
      'PG_LOCK_TIMEOUT_MS: must not exceed PG_STATEMENT_TIMEOUT_MS (the statement timeout would always fire first)',
    ]);
    assert.equal(loadConfig({ DATABASE_URL: POSTGRES, PG_LOCK_TIMEOUT_MS: '3000' }).PG_LOCK_TIMEOUT_MS, 3000);
  });
});

describe('loadConfig: the log buffer', () => {
  it('buffers 4 KB of log lines, written at least every second, by default', () => {
    const config = loadConfig({});
    assert.equal(config.LOG_BUFFER_BYTES, 4096);
    assert.equal(config.LOG_FLUSH_INTERVAL_MS, 1000);
  });

  it('reads both, and 0 bytes (a write per line, as without a buffer)', () => {
    const config = loadConfig({ LOG_BUFFER_BYTES: '1024', LOG_FLUSH_INTERVAL_MS: '250' });
    assert.equal(config.LOG_BUFFER_BYTES, 1024);
    assert.equal(config.LOG_FLUSH_INTERVAL_MS, 250);
    assert.equal(loadConfig({ LOG_BUFFER_BYTES: '0' }).LOG_BUFFER_BYTES, 0);
  });

  it('refuses a buffer above PIPE_BUF (4096), a negative one, and a flush interval of 0 or over a minute', () => {
    for (const [name, value] of [
      ['LOG_BUFFER_BYTES', '4097'],
      ['LOG_BUFFER_BYTES', '-1'],
      ['LOG_BUFFER_BYTES', '4k'],
      ['LOG_FLUSH_INTERVAL_MS', '0'],
      ['LOG_FLUSH_INTERVAL_MS', '60001'],
    ] as const) {
      const problems = problemsOf({ [name]: value });
      assert.equal(problems.length, 1, `${name}=${value}: ${problems.join('; ')}`);
      assert.ok(problems[0]!.startsWith(`${name}:`), problems[0]);
    }
  });
});
