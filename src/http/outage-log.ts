import type { FastifyBaseLogger } from 'fastify';

/** How often an ongoing outage is checked for its end (ms), and how often its count is logged meanwhile. */
const CHECK_INTERVAL_MS = 1000;
const COUNT_INTERVAL_MS = 10_000;
const MAX_MESSAGE_LENGTH = 200;

/**
 * What may be logged of a driver error: its class, code and message, never its other properties (PostgreSQL's
 * `detail` holds row values, `where` and `internalQuery` SQL), and the same of its cause.
 */
export function loggableError(error: unknown, depth = 0): Record<string, unknown> {
  // Already made loggable (the logger's serializer runs on what was passed to it).
  if (typeof error === 'object' && error !== null && !(error instanceof Error)) return error as Record<string, unknown>;
  if (!(error instanceof Error)) return { message: String(error).slice(0, MAX_MESSAGE_LENGTH) };
  const code = (error as { code?: unknown }).code;
  const logged: Record<string, unknown> = { type: error.name, message: error.message.slice(0, MAX_MESSAGE_LENGTH) };
  if (typeof code === 'string' || typeof code === 'number') logged['code'] = code;
  if (error.cause !== undefined && depth < 3) logged['cause'] = loggableError(error.cause, depth + 1);
  return logged;
}

/** loggableError with the stack: for bugs (a 500), whose stack is what the operator needs. */
export function loggableBug(error: unknown): { type: string; message: string; stack: string; [key: string]: unknown } {
  const logged = loggableError(error);
  const stack = error instanceof Error ? (error.stack ?? '') : String(logged['stack'] ?? '');
  return { ...logged, type: String(logged['type'] ?? 'Error'), message: String(logged['message'] ?? ''), stack };
}

/**
 * Database outages in the log: the first failed request of an outage logs its cause at error (driver code and
 * message, never row values or parameters), then only a count every 10 s while it lasts, and one line when it
 * is over: no failure for a second and the database answers `probe` again. One 8 s outage is three lines,
 * not one per request.
 */
export class OutageLog {
  private failures = 0;
  private startedAt = 0;
  private lastFailureAt = 0;
  private lastCountAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly probe: () => Promise<unknown>,
  ) {}

  /** A request failed because the database could not serve it; `requestLog` carries the request id. */
  failed(cause: unknown, requestLog: FastifyBaseLogger): void {
    const now = Date.now();
    this.failures++;
    this.lastFailureAt = now;
    if (this.timer) return;
    this.startedAt = now;
    this.lastCountAt = now;
    requestLog.error({ err: loggableError(cause) }, 'database unavailable');
    this.timer = setInterval(() => void this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    const now = Date.now();
    if (now - this.lastCountAt >= COUNT_INTERVAL_MS) {
      this.lastCountAt = now;
      this.log.error({ failed_requests: this.failures, seconds: this.secondsSince(now) }, 'database still unavailable');
    }
    if (this.probing || now - this.lastFailureAt < CHECK_INTERVAL_MS) return;
    this.probing = true;
    try {
      await this.probe();
    } catch {
      return;
    } finally {
      this.probing = false;
    }
    if (Date.now() - this.lastFailureAt < CHECK_INTERVAL_MS || !this.timer) return;
    this.log.warn({ failed_requests: this.failures, seconds: this.secondsSince(Date.now()) }, 'database available again');
    this.failures = 0;
    this.stop();
  }

  private secondsSince(now: number): number {
    return Math.round((now - this.startedAt) / 100) / 10;
  }
}
