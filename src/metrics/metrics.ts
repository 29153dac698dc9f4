import { statSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/database.js';

// Prometheus metrics of one server process (prom-client). Served by a listener of their own (METRICS_PORT,
// metrics.server.ts), never on the API's port. Under WORKERS=N each worker keeps its own registry and the primary
// serves their sum (prom-client's AggregatorRegistry asks every worker over the cluster's IPC channel).

/** Seconds; from a fast GET (~0.1 ms) to the longest wait a request may have (a few seconds). */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The label of requests no route matched: their raw URLs would make a label value per URL. */
const UNMATCHED_ROUTE = 'unmatched';

/** The route template as OpenAPI writes it: /users/:user_id becomes /users/{user_id}. */
const templateOf = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** getUserById → get_user_by_id: the operation label of a repository method. */
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

type Labels = Record<string, string>;

/** The observations of one label set: counts per bucket (the last one: above every bound), their sum and count. */
interface HistogramSeries {
  readonly labels: Labels;
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

type MetricValue = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * A histogram kept in plain arrays and rendered at scrape time. prom-client's own Histogram validates and hashes
 * the labels at every observation (0.6 µs, and 0.35 µs more for a Counter: measured, and seen in profiles of GET by
 * id); here the caller keeps its series and an observation is a short scan of the bounds. Registered in the registry
 * as a histogram, and with `counter`, as a counter of the same series' counts, so that the text format and the
 * cluster's aggregation are prom-client's.
 */
class FastHistogram {
  private readonly series: HistogramSeries[] = [];

  constructor(
    registry: Registry,
    private readonly name: string,
    help: string,
    private readonly bounds: readonly number[],
    counter?: { name: string; help: string },
  ) {
    const register = (metricName: string, metricHelp: string, type: 'histogram' | 'counter', values: () => MetricValue[]) =>
      registry.registerMetric({
        name: metricName,
        help: metricHelp,
        type,
        aggregator: 'sum',
        get: async () => ({ name: metricName, help: metricHelp, type, aggregator: 'sum', values: values() }),
        reset: () => this.reset(),
      } as never);
    register(name, help, 'histogram', () => this.histogramValues());
    if (counter) register(counter.name, counter.help, 'counter', () => this.series.map(({ labels, count }) => ({ labels, value: count })));
  }

  /** A new series of these labels; the caller keeps it and observes into it. */
  seriesOf(labels: Labels): HistogramSeries {
    const series = { labels, buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
    this.series.push(series);
    return series;
  }

  observe(series: HistogramSeries, value: number): void {
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    series.buckets[bucket]!++;
    series.sum += value;
    series.count++;
  }

  private reset(): void {
    for (const series of this.series) {
      series.buckets.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }

  private histogramValues(): MetricValue[] {
    const values: MetricValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, buckets, sum, count } of this.series) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += buckets[index]!;
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: bucketName });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: bucketName });
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return values;
  }
}

export class ServiceMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  private readonly requests: FastHistogram;
  /** The request histogram's series by route, method and status: looked up without building a key a request. */
  private readonly requestSeries = new Map<string | undefined, Map<string, Map<number, HistogramSeries>>>();
  private readonly queryDuration: FastHistogram;
  private inFlight = 0;

  /** `clustered`: this process is a worker of WORKERS > 1, whose registry the primary sums. */
  constructor(options: { clustered?: boolean } = {}) {
    const registry = new Registry();
    this.registry = registry;
    this.contentType = registry.contentType;
    // From now on this worker's answers to the primary's scrapes report this registry.
    if (options.clustered) AggregatorRegistry.setRegistries([registry]);
    collectDefaultMetrics({ register: registry });
    this.requests = new FastHistogram(
      registry,
      'http_request_duration_seconds',
      'Time from the request to the end of its response, by method, route template and status (_count: requests)',
      REQUEST_BUCKETS,
      { name: 'http_requests_total', help: 'Requests answered, by method, route template and status' },
    );
    const inFlight = () => this.inFlight;
    new Gauge({
      name: 'http_requests_in_flight',
      help: 'Requests received and not yet answered (or abandoned by their client)',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    });
    this.queryDuration = new FastHistogram(
      registry,
      'db_query_duration_seconds',
      'Time of each database operation (a repository method, or the health probe), by operation',
      QUERY_BUCKETS,
    );
  }

  /**
   * Requests accepted by each API_KEY key (label `key`: its position in API_KEY, from 1), so that a rotation can
   * tell when no client sends the old key any more. A position, not a digest: nothing about a key is published.
   */
  countApiKeys(keys: number): (keyIndex: number) => void {
    const accepted = new Array<number>(keys).fill(0);
    new Counter({
      name: 'api_key_requests_total',
      help: 'Requests accepted with each key of API_KEY (key: its position in the list, from 1)',
      labelNames: ['key'],
      registers: [this.registry],
      collect() {
        this.reset();
        accepted.forEach((count, index) => this.inc({ key: String(index + 1) }, count));
      },
    });
    return (keyIndex) => accepted[keyIndex]!++;
  }

  /** The scrape: the Prometheus text of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Counts every request of the app: in flight from onRequest until its response closes, then by route and status. */
  instrument(app: FastifyInstance): void {
    app.addHook('onRequest', (request, reply, done) => {
      this.inFlight++;
      // 'close' comes once for every response: sent, or given up when the client went away.
      reply.raw.on('close', this.responseClosed);
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      this.observeRequest(request, reply);
      done();
    });
  }

  /** A response's 'close' (it comes once for every response): one shared listener, nothing made per request. */
  private readonly responseClosed = (): void => {
    this.inFlight--;
  };

  private observeRequest(request: FastifyRequest, reply: FastifyReply): void {
    const { method } = request;
    const url = request.routeOptions.url;
    const status = reply.statusCode;
    let byMethod = this.requestSeries.get(url);
    if (!byMethod) this.requestSeries.set(url, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      series = this.requests.seriesOf({ method, route: url === undefined ? UNMATCHED_ROUTE : templateOf(url), status: String(status) });
      byStatus.set(status, series);
    }
    this.requests.observe(series, reply.elapsedTime / 1000);
  }

  /**
   * The target with each of its methods (or of `names`) timed as a database operation: a method that returns a
   * promise is observed when it settles. Methods are looked up at each call, so a test may still replace them on
   * the target.
   */
  timed<T extends object>(target: T, names?: readonly (keyof T & string)[]): T {
    const wrapped = Object.create(target) as Record<string, unknown>;
    const methods = names ?? methodNamesOf(target);
    for (const name of methods) {
      // Made at the first call: a helper method that is never called from outside never shows as an operation.
      let series: HistogramSeries | undefined;
      const observe = (started: number) => {
        series ??= this.queryDuration.seriesOf({ operation: snakeCase(name) });
        this.queryDuration.observe(series, (performance.now() - started) / 1000);
      };
      wrapped[name] = (...args: unknown[]) => {
        const started = performance.now();
        const result = (target as Record<string, (...args: unknown[]) => unknown>)[name]!(...args);
        if (!(result instanceof Promise)) return result;
        return result.then(
          (value: unknown) => {
            observe(started);
            return value;
          },
          (error: unknown) => {
            observe(started);
            throw error;
          },
        );
      };
    }
    return wrapped as T;
  }

  /** The database's own gauges: PostgreSQL's pool, SQLite's WAL file and group commits. */
  observeDatabase(database: Database): void {
    const registers = [this.registry];
    if (database.dialect === 'postgres') {
      const { pool } = database;
      new Gauge({
        name: 'db_pool_connections',
        help: 'PostgreSQL pool connections, by state: open (total) and idle',
        labelNames: ['state'],
        registers,
        collect() {
          this.set({ state: 'total' }, pool.totalCount);
          this.set({ state: 'idle' }, pool.idleCount);
        },
      });
      new Gauge({
        name: 'db_pool_waiting_requests',
        help: 'Queries waiting for a free PostgreSQL pool connection',
        registers,
        collect() {
          this.set(pool.waitingCount);
        },
      });
      return;
    }
    if (!database.sqlite.memory) {
      new Gauge({
        name: 'sqlite_wal_bytes',
        help: 'Size of the SQLite write-ahead log file (checkpoints move it into the database file)',
        registers,
        // Every worker sees the same file: their largest reading, not the sum.
        aggregator: 'max',
        collect() {
          this.set(statSync(`${database.sqlite.name}-wal`, { throwIfNoEntry: false })?.size ?? 0);
        },
      });
    }
    const commits = database.groupCommits;
    new Counter({
      name: 'sqlite_group_commits_total',
      help: 'SQLite transactions committed by the group commit (writes of one event-loop turn share one)',
      registers,
      collect() {
        this.reset();
        this.inc(commits.batches);
      },
    });
    new Counter({
      name: 'sqlite_group_commit_writes_total',
      help: 'Writes committed by the group commit (divided by sqlite_group_commits_total: the mean batch size)',
      registers,
      collect() {
        this.reset();
        this.inc(commits.writes);
      },
    });
  }
}

/** The methods of an object, its class's included (a repository is a class instance). */
function methodNamesOf(target: object): string[] {
  const names = new Set<string>();
  for (let prototype = target; prototype && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype) as object) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name !== 'constructor' && typeof (target as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return [...names];
}

/**
 * A worker of WORKERS > 1 answers the primary's scrapes from its start on, with nothing until its app is built:
 * a worker that never answers would make every scrape wait for prom-client's timeout (5 s) and fail.
 */
export function answerPrimaryScrapes(): void {
  // Constructing one installs the worker's answer (once per process).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([]);
}

/** The scrape of the cluster primary (WORKERS > 1): every worker's registry, asked over IPC, summed. */
export function workersMetrics(): { contentType: string; render(): Promise<string> } {
  const workers = new AggregatorRegistry();
  return { contentType: workers.contentType, render: () => workers.clusterMetrics() };
}
