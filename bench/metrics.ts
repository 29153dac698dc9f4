import { freePort } from '../scripts/harness/free-port.js';
import { measureProcess } from '../scripts/harness/process-stats.js';
import { describe, wrkOn, type LoadSettings, type Scenario } from './load.js';
import { fixed, table, verdict } from './report.js';
import type { Running, Servers, Target } from './servers.js';
import { median } from './timing.js';

// What the metrics cost: GET /users/{id} on the service without METRICS_PORT and with it (scraped every second
// meanwhile, as a Prometheus server would every 15 s or so, only more often). Both servers run side by side and take
// the same load at the same time, each from its own wrk: whatever else slows the machine slows both alike, so the
// ratio of their throughputs is the ratio of their costs per request (run one after the other, the same server's
// throughput varied by ±20 % between runs on the shared 2-core machine of docs/PERFORMANCE.md). The bar: GET by id
// loses ≤ 5 % with metrics on.

export const METRICS_COST_BAR = 0.95;

interface MetricsCostRun {
  servers: Servers;
  service: Target;
  getById: Scenario;
  settings: LoadSettings;
  nonce: string;
  say: (text?: string) => void;
  progress: (text: string) => void;
}

type Side = 'off' | 'on';
const SIDES: Side[] = ['off', 'on'];

export async function metricsCostPart({ servers, service, getById, settings, nonce, say, progress }: MetricsCostRun): Promise<void> {
  // Half the connections each, so that the machine carries the load of one run of the other parts.
  const half = { ...settings, connections: Math.max(1, Math.floor(settings.connections / 2)) };
  say(
    `## What the metrics cost: GET /users/{id} with METRICS_PORT off and on, side by side ` +
      `(each wrk -t${half.threads} -c${half.connections}, ${settings.duration} s × ${settings.rounds} rounds)`,
  );
  say();
  const rps: Record<Side, number[]> = { off: [], on: [] };
  const cpu: Record<Side, number[]> = { off: [], on: [] };
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const metricsPort = await freePort();
    const started: Partial<Record<Side, Running>> = {};
    let scraping: NodeJS.Timeout | undefined;
    let scrapes = 0;
    try {
      for (const side of SIDES) {
        const env = side === 'on' ? { ...service.env, METRICS_PORT: String(metricsPort) } : service.env;
        started[side] = await servers.start(`service-metrics-${side}`, { ...service, env }, `service (metrics ${side})`);
      }
      const load = (side: Side, seconds: number) => wrkOn(started[side]!, getById, service.seed, 700 + round, `${nonce}.m${round}.${side}`, half, seconds);
      if (settings.warmup > 0) await Promise.all(SIDES.map((side) => load(side, settings.warmup)));
      scraping = setInterval(() => {
        void fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((response) => response.text()).then(() => scrapes++, () => {});
      }, 1000);
      const [off, on] = await Promise.all(SIDES.map((side) => measureProcess(started[side]!.pid, () => load(side, settings.duration))));
      const results = { off: off!, on: on! };
      const cpuUs = (side: Side) => (results[side].cpuMs * 1000) / Math.max(1, results[side].result.requests);
      for (const side of SIDES) {
        rps[side].push(results[side].result.requestsPerSec);
        cpu[side].push(cpuUs(side));
        progress(`metrics round ${round} ${side}: ${describe(results[side].result)}, CPU ${fixed(cpuUs(side))} µs/request${side === 'on' ? `, ${scrapes} scrapes` : ''}`);
      }
      ratios.push(results.on.result.requestsPerSec / results.off.result.requestsPerSec);
      cpuRatios.push(cpuUs('off') / cpuUs('on'));
    } finally {
      clearInterval(scraping);
      for (const side of SIDES) await started[side]?.stop();
    }
  }
  say(
    table(
      ['metrics', 'req/s (median)', 'req/s each round', 'server CPU µs/request (median)', 'CPU each round'],
      SIDES.map((side) => [
        side,
        fixed(median(rps[side])),
        rps[side].map((n) => fixed(n)).join(' / '),
        fixed(median(cpu[side]), 1),
        cpu[side].map((n) => fixed(n, 1)).join(' / '),
      ]),
    ),
  );
  say();
  say(
    `Throughput with metrics / without, in the same seconds, median of the rounds' ratios (${ratios.map((r) => fixed(r, 3)).join(', ')}): ` +
      `${verdict(median(ratios), METRICS_COST_BAR, true)} (bar: ≥ ${METRICS_COST_BAR}, i.e. GET by id loses ≤ 5 %). ` +
      `Requests per CPU second, the same ratio (${cpuRatios.map((r) => fixed(r, 3)).join(', ')}): ${verdict(median(cpuRatios), METRICS_COST_BAR, true)}.`,
  );
  say();
}
