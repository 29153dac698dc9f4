import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import { requestTraceOf } from './hooks.js';

// The access log and the logger of each request, on the hot path of every request. Measured under a GET by id load
// (docs/PERFORMANCE.md, "Third pass"): on a bare Fastify server, pino's access line cost 6–7 µs of CPU a request;
// with the line below and a child logger made only when a request logs something, the service's CPU per GET by id
// fell from ~50 to ~42 µs.

const INFO = 30;

/** Where the access lines go: the logger's own destination, so that they stay in order with its other lines. */
export type LineWriter = (line: string) => void;

/**
 * The access log: one info line per completed request, instead of Fastify's two (incoming + completed). The line is
 * the one pino would write for `request.log.info({ method, url, status, ms }, 'request')` (the request's bindings
 * request_id and trace_id included: test/app/access-log.test.ts compares them), written without pino's generic
 * serializer.
 */
export class AccessLogController extends LogController {
  private root: pino.Logger | undefined;
  private write: LineWriter | undefined;
  /** The logger's own fields (pid, hostname), as pino writes them after `time`. */
  private chindings = '';

  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  /**
   * Starts writing lines for the app's logger (called once the app exists). A logger that is not pino (Fastify's
   * `logger: false`) gets no access log, as before.
   */
  attach(logger: FastifyBaseLogger, write?: LineWriter): void {
    const root = logger as pino.Logger;
    const stream = (root as unknown as Record<symbol, { write?: LineWriter } | undefined>)[pino.symbols.streamSym];
    if (typeof root.isLevelEnabled !== 'function' || typeof stream?.write !== 'function') return;
    this.root = root;
    this.chindings = (root as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
    this.write = write ?? ((line) => stream.write!(line));
  }

  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    if (this.write === undefined || this.root!.levelVal > INFO) return;
    const ms = Math.round(reply.elapsedTime * 1000) / 1000;
    // The method is one of llhttp's known tokens and the trace id is hex: neither needs escaping.
    this.write(
      `{"level":${INFO},"time":${Date.now()}${this.chindings},"request_id":${JSON.stringify(request.id)},` +
        `"trace_id":"${requestTraceOf(request.raw).traceId}","method":"${request.method}","url":${JSON.stringify(request.url)},` +
        `"status":${reply.statusCode},"ms":${ms},"msg":"request"}\n`,
    );
  }
}

type LogArguments = Parameters<pino.LogFn>;

/**
 * A request's logger, made into pino's child (with request_id and trace_id) only when the request logs something:
 * most requests log nothing but their access line, which does not need it.
 */
class RequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: pino.Bindings,
    private readonly options: pino.ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  fatal(...args: LogArguments): void {
    this.logger.fatal(...args);
  }
  error(...args: LogArguments): void {
    this.logger.error(...args);
  }
  warn(...args: LogArguments): void {
    this.logger.warn(...args);
  }
  info(...args: LogArguments): void {
    this.logger.info(...args);
  }
  debug(...args: LogArguments): void {
    this.logger.debug(...args);
  }
  trace(...args: LogArguments): void {
    this.logger.trace(...args);
  }
  /** Logs nothing, as pino's own. */
  silent(): void {}
  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/** Fastify's childLoggerFactory: every log line of a request names its W3C trace (the caller's, or one that starts here). */
export function requestLoggerOf(logger: FastifyBaseLogger, bindings: pino.Bindings, options: pino.ChildLoggerOptions, raw: IncomingMessage): FastifyBaseLogger {
  // Fastify's bindings object is made for this call: added to, not copied.
  (bindings as Record<string, unknown>)['trace_id'] = requestTraceOf(raw).traceId;
  return new RequestLogger(logger, bindings, options);
}
