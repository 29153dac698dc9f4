import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/** Every setting the service reads from the environment; this file is the only reader of process.env. */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATABASE_URL: Type.String({
    minLength: 1,
    default: 'file:./data/users.db',
    description: 'file:<path> or :memory: for SQLite; postgres://user@host:port/db for PostgreSQL',
  }),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  // PostgreSQL waits, each bounded below a request budget of a few seconds. A request fails with 503
  // DATABASE_UNAVAILABLE (Retry-After) instead of waiting longer, and one in flight at SIGTERM is answered before
  // the process exits (loadConfig refuses settings where PG_CONNECT_TIMEOUT_MS + PG_QUERY_TIMEOUT_MS is not below
  // SHUTDOWN_TIMEOUT_MS).
  PG_CONNECT_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    maximum: 600000,
    default: 2000,
    description: 'PostgreSQL: the longest wait for a connection (a free one of the pool, or a new one)',
  }),
  PG_STATEMENT_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    maximum: 600000,
    default: 3000,
    description: 'PostgreSQL statement_timeout of the serving connections: the server cancels a longer statement',
  }),
  PG_LOCK_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    maximum: 600000,
    default: 1000,
    description: 'PostgreSQL lock_timeout: a statement waiting longer for a lock fails; at most PG_STATEMENT_TIMEOUT_MS',
  }),
  PG_QUERY_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    maximum: 600000,
    default: 4000,
    description:
      'PostgreSQL, client side: a statement unanswered this long (frozen server, lost packets) fails and its ' +
      'connection is closed; above PG_STATEMENT_TIMEOUT_MS, so that the server cancels first',
  }),
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    maximum: 600000,
    default: 5000,
    description: 'PostgreSQL idle_in_transaction_session_timeout: an abandoned transaction releases its locks after this',
  }),
  PG_PING_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    maximum: 600000,
    default: 1000,
    description: '/healthcheck on PostgreSQL: 503 when a free connection and the answer to SELECT 1 take longer',
  }),
  PG_MIGRATION_STATEMENT_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    maximum: 86400000,
    default: 0,
    description: "PostgreSQL statement_timeout of the start-up migrations (an index build may take long); 0: the server's own, normally none",
  }),
  // OFF is refused: an acknowledged write must survive a crash of the process.
  SQLITE_SYNCHRONOUS: Type.Unsafe<'NORMAL' | 'FULL' | 'EXTRA'>({
    type: 'string',
    enum: ['NORMAL', 'FULL', 'EXTRA'],
    default: 'NORMAL',
  }),
  SQLITE_BUSY_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 600000, default: 5000 }),
  // Reads through a memory map instead of SQLite's page cache copies (0: off). Opt-in: no gain for GET by id was
  // measured (docs/PERFORMANCE.md), and mapped pages count in RSS.
  SQLITE_MMAP_SIZE_MB: Type.Integer({ minimum: 0, maximum: 65536, default: 0 }),
  // SQLite's page cache, per connection. The file's pages are also in the OS's page cache, so a page not held here
  // costs a pread, not a disk read: measured, 4 MB wrote and read as fast as 16 MB (better-sqlite3's default) at 1,000
  // to 1,000,000 users, for 5–14 MB less RSS under writes (docs/PERFORMANCE.md).
  SQLITE_CACHE_SIZE_MB: Type.Integer({ minimum: 1, maximum: 65536, default: 4 }),
  // WAL checkpoints on a thread of their own (src/db/checkpointer.ts): PATCH 5–10 % faster under load, for one more V8
  // isolate (~8 MB of RSS). Off by default, for issue 10's memory bar (docs/PERFORMANCE.md, "Ninth pass"): the serving
  // connection checkpoints itself, inside the commit that takes the WAL past 1,000 pages.
  SQLITE_CHECKPOINT_THREAD: Type.Boolean({ default: false }),
  LOG_LEVEL: Type.Unsafe<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>({
    type: 'string',
    enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
  }),
  // The log is written in blocks of up to LOG_BUFFER_BYTES instead of one write(2) per line, i.e. per request
  // (issue 10). What waits is what a kill -9 can lose (docs/RELIABILITY.md).
  // At most 4096 (PIPE_BUF): a block written to a pipe shared by several workers is never interleaved with another's.
  LOG_BUFFER_BYTES: Type.Integer({
    minimum: 0,
    maximum: 4096,
    default: 4096,
    description: 'Bytes of log lines kept in memory and written at once; 0 writes every line at once',
  }),
  LOG_FLUSH_INTERVAL_MS: Type.Integer({
    minimum: 10,
    maximum: 60000,
    default: 1000,
    description: 'The longest a buffered log line waits on a quiet server before it is written',
  }),
  BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 104857600, default: 1048576 }),
  // An import (POST /users/import) is streamed, so its limit is counted while it arrives, not buffered.
  IMPORT_BODY_LIMIT: Type.Integer({
    minimum: 1024,
    maximum: 17179869184,
    default: 104857600,
    description: 'Bytes an import body may have (checked while it streams in); 100 MiB by default',
  }),
  METRICS_PORT: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: 'Serve Prometheus metrics at /metrics on this port of HOST (a separate listener); off when unset',
    }),
  ),
  WORKERS: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  INSTANCE_ID: Type.String({ default: '', maxLength: 64, pattern: '^[A-Za-z0-9._-]*$' }),
  // Slow or idle clients: a client must send its headers within HEADERS_TIMEOUT_MS and the whole request
  // within REQUEST_TIMEOUT_MS; an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS.
  HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600000, default: 10000 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600000, default: 30000 }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600000, default: 5000 }),
  API_KEY: Type.String({
    default: '',
    description: 'Comma-separated bearer keys; when set, every /users route needs one (16+ characters each)',
  }),
  RATE_LIMIT: Type.Integer({ minimum: 0, maximum: 1000000, default: 0, description: 'Requests per minute per client on /users; 0 = off' }),
  CORS_ORIGINS: Type.String({ default: '', description: 'Comma-separated allowed origins (https://app.example.com); none by default' }),
  TRUST_PROXY: Type.Boolean({ default: false, description: 'Take the client address from X-Forwarded-For (behind a load balancer)' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600000, default: 10000 }),
  SHUTDOWN_DELAY_MS: Type.Integer({
    minimum: 0,
    maximum: 600000,
    default: 0,
    description:
      'After SIGTERM, /readyz answers 503 at once but the server keeps serving this long before it stops accepting, ' +
      'so that a balancer polling /readyz stops sending first; part of SHUTDOWN_TIMEOUT_MS',
  }),
});

export type ConfigInput = Static<typeof ConfigSchema>;

export type DatabaseTarget =
  | { dialect: 'sqlite'; filename: string }
  | { dialect: 'postgres'; connectionString: string };

export type Config = Readonly<
  ConfigInput & {
    database: DatabaseTarget;
    apiKeys: readonly string[];
    corsOrigins: readonly string[];
  }
>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The environment's strings converted to the schema's types, with the defaults filled in, then checked: one problem
 * per invalid variable (every variable is optional or has a default, so each error names one, as `/NAME`). TypeBox's
 * Value functions interpret the schema: compiling an ajv validator for this one call cost every start 40-90 ms
 * (docs/PERFORMANCE.md, "Eighth pass").
 */
function checkConfig(input: Record<string, unknown>): { value: ConfigInput; problems: string[] } {
  const value = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, input)) as ConfigInput;
  const problems = [...Value.Errors(ConfigSchema, value)].map((error) => `${error.instancePath.slice(1)}: ${error.message}`);
  return { value, problems };
}

function parseDatabaseUrl(url: string): DatabaseTarget | string {
  if (url === ':memory:' || url === 'file::memory:') return { dialect: 'sqlite', filename: ':memory:' };
  if (url.startsWith('file:')) {
    const filename = url.slice('file:'.length);
    return filename ? { dialect: 'sqlite', filename } : 'DATABASE_URL: file: needs a path, e.g. file:./data/users.db';
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', connectionString: url };
  return 'DATABASE_URL: must start with file:, postgres:// or postgresql://, or be :memory:';
}

/**
 * Reads and validates the configuration. Every problem is reported at once, then the result is frozen.
 * Tests pass their own object instead of the environment.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const { value: typed, problems } = checkConfig(input);
  if (typed.HEADERS_TIMEOUT_MS > typed.REQUEST_TIMEOUT_MS) {
    problems.push('HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS');
  }
  const database = typeof typed.DATABASE_URL === 'string' ? parseDatabaseUrl(typed.DATABASE_URL) : 'DATABASE_URL: invalid';
  if (typeof database === 'string') problems.push(database);
  // Comparisons are false for a value already reported as invalid (NaN): no second message about it.
  if (typed.PG_LOCK_TIMEOUT_MS > typed.PG_STATEMENT_TIMEOUT_MS) {
    problems.push('PG_LOCK_TIMEOUT_MS: must not exceed PG_STATEMENT_TIMEOUT_MS (the statement timeout would always fire first)');
  }
  if (typed.PG_QUERY_TIMEOUT_MS <= typed.PG_STATEMENT_TIMEOUT_MS) {
    problems.push(
      'PG_QUERY_TIMEOUT_MS: must exceed PG_STATEMENT_TIMEOUT_MS, so that the server cancels a slow statement before ' +
        'the client gives up on it (a statement the client gives up on may still run, and commit)',
    );
  }
  if (typed.SHUTDOWN_DELAY_MS >= typed.SHUTDOWN_TIMEOUT_MS) {
    problems.push('SHUTDOWN_DELAY_MS: must be below SHUTDOWN_TIMEOUT_MS (the delay is part of the grace period)');
  }
  if (typed.METRICS_PORT !== undefined && typed.METRICS_PORT === typed.PORT) {
    problems.push('METRICS_PORT: must differ from PORT (metrics have their own listener, never the public one)');
  }
  if (typeof database !== 'string' && database.dialect === 'postgres') {
    // A request in flight at SIGTERM must be answered (a 503 at worst) before the grace period ends and the process exits.
    const budget = typed.SHUTDOWN_DELAY_MS + typed.PG_CONNECT_TIMEOUT_MS + typed.PG_QUERY_TIMEOUT_MS;
    if (budget >= typed.SHUTDOWN_TIMEOUT_MS) {
      problems.push(
        `SHUTDOWN_DELAY_MS + PG_CONNECT_TIMEOUT_MS + PG_QUERY_TIMEOUT_MS (${budget}) must be below SHUTDOWN_TIMEOUT_MS (${typed.SHUTDOWN_TIMEOUT_MS}): ` +
          'a request waiting on PostgreSQL at SIGTERM must get its answer before the process exits',
      );
    }
    if (typed.PG_PING_TIMEOUT_MS >= typed.SHUTDOWN_TIMEOUT_MS) {
      problems.push('PG_PING_TIMEOUT_MS: must be below SHUTDOWN_TIMEOUT_MS');
    }
  }
  const list = (value: unknown) =>
    typeof value === 'string' ? value.split(',').map((item) => item.trim()).filter(Boolean) : [];
  const apiKeys = list(typed.API_KEY);
  // A short key can be guessed: refuse it rather than run with a false sense of protection.
  if (apiKeys.some((key) => key.length < 16 || /\s/.test(key))) {
    problems.push('API_KEY: every key must be at least 16 characters, without spaces');
  }
  const corsOrigins = list(typed.CORS_ORIGINS);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`CORS_ORIGINS: "${origin}" is not an origin such as https://app.example.com (no path)`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...typed,
    database: database as DatabaseTarget,
    apiKeys: Object.freeze(apiKeys),
    corsOrigins: Object.freeze(corsOrigins),
  });
}
