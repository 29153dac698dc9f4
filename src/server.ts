import cluster, { type Worker } from 'node:cluster';
import { setTimeout as delay } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { migrateDatabase } from './db/client.js';
import { closeMetrics, listenMetrics } from './metrics/metrics.server.js';

/** Starts one server process: builds the app, listens, and shuts down gracefully on SIGTERM/SIGINT. */
export async function startServer(config: Config): Promise<void> {
  if (cluster.isWorker && config.METRICS_PORT !== undefined) (await import('./metrics/metrics.js')).answerPrimaryScrapes();
  const app = await buildApp(config);
  // A worker's metrics are served by the primary, summed over the workers.
  const metricsServer =
    app.metrics && !cluster.isWorker
      ? await listenMetrics(app.metrics, config.HOST, config.METRICS_PORT!, (err) => app.log.error({ err }, 'metrics scrape failed'))
      : undefined;
  // Stop accepting, let in-flight requests finish, close the database, exit 0 (1 after the timeout).
  // The buffered log loses nothing here: app.close() writes what waits, and the process's exit anything after
  // (a timeout, a second signal; src/http/log-destination.ts).
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
    // /readyz answers 503 from now on; the server goes on serving for SHUTDOWN_DELAY_MS, so that a balancer that
    // polls /readyz stops sending before the listener closes (after an error: no delay).
    app.readiness.stopping = true;
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal, delay_ms: config.SHUTDOWN_DELAY_MS }, 'shutting down');
    if (!err && config.SHUTDOWN_DELAY_MS > 0) await delay(config.SHUTDOWN_DELAY_MS);
    await app.close();
    if (metricsServer) await closeMetrics(metricsServer);
  });
  await app.listen({ port: config.PORT, host: config.HOST });
}

/**
 * WORKERS > 1: this process applies the migrations once, then forks the workers, which share the port
 * (node:cluster) and each open their own connection to the database. A worker that dies is replaced;
 * SIGTERM/SIGINT is passed to every worker, and this process exits once all have drained.
 */
async function startPrimary(config: Config): Promise<void> {
  await migrateDatabase(config);
  if (config.METRICS_PORT !== undefined) {
    // One scrape asks every worker for its registry and answers their sum.
    const { workersMetrics } = await import('./metrics/metrics.js');
    await listenMetrics(
      workersMetrics(),
      config.HOST,
      config.METRICS_PORT,
      (error) => console.error(JSON.stringify({ level: 50, msg: 'metrics scrape failed', err: { message: String(error) } })),
    );
  }
  let stopping = false;
  const fork = (index: number): Worker => {
    const env = config.INSTANCE_ID ? { INSTANCE_ID: `${config.INSTANCE_ID}.${index}` } : {};
    const worker = cluster.fork(env);
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(JSON.stringify({ level: 50, msg: 'worker died; starting another', index, code, signal }));
      setTimeout(() => fork(index), 500).unref();
    });
    return worker;
  };
  for (let index = 1; index <= config.WORKERS; index++) fork(index);

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    let failed = false;
    let alive = workers.length;
    if (alive === 0) process.exit(0);
    for (const worker of workers) {
      worker.once('exit', (code) => {
        failed ||= code !== 0;
        if (--alive === 0) process.exit(failed ? 1 : 0);
      });
      worker.process.kill(signal);
    }
    setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS + 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

try {
  const config = loadConfig();
  if (config.WORKERS > 1 && cluster.isPrimary) await startPrimary(config);
  else await startServer(config);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  console.error(error);
  process.exit(1);
}
