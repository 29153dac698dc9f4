import { freePort } from '../scripts/harness/free-port.js';
import { describe, wrkOn, type LoadSettings, type Scenario } from './load.js';
import { fixed, table, verdict } from './report.js';
import type { Servers, Target } from './servers.js';
import { median } from './timing.js';

// What the metrics cost: GET /users/{id} on the service without METRICS_PORT and with it (a scrape every second
// meanwhile, as a Prometheus server would do it every 15 s or so, only more often), interleaved, each server started
// afresh each round. The bar: GET by id loses ≤ 5 % with metrics on.

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

export async function metricsCostPart({ servers, service, getById, settings, nonce, say, progress }: MetricsCostRun): Promise<void> {
  say(`## What the metrics cost: GET /users/{id} with METRICS_PORT off and on (wrk -t${settings.threads} -c${settings.connections}, ${settings.duration} s × ${settings.rounds} rounds)`);
  say();
  const rps = { off: [] as number[], on: [] as number[] };
  const ratios: number[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const perRound: Partial<Record<'off' | 'on', number>> = {};
    // Alternate which goes first, so that neither always runs on a warmer (or hotter) machine.
    const order: ('off' | 'on')[] = round % 2 === 1 ? ['off', 'on'] : ['on', 'off'];
    for (const side of order) {
      const metricsPort = side === 'on' ? await freePort() : undefined;
      const target = { ...service, env: { ...service.env, ...(metricsPort && { METRICS_PORT: String(metricsPort) }) } };
      const server = await servers.start(`service-metrics-${side}`, target, `service (metrics ${side})`);
      let scraping: NodeJS.Timeout | undefined;
      let scrapes = 0;
      try {
        if (settings.warmup > 0) await wrkOn(server, getById, service.seed, 700 + round, `${nonce}.m${round}`, settings, settings.warmup);
        if (metricsPort) {
          scraping = setInterval(() => {
            void fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((response) => response.text()).then(() => scrapes++, () => {});
          }, 1000);
        }
        const result = await wrkOn(server, getById, service.seed, 700 + round, `${nonce}.m${round}`, settings);
        perRound[side] = result.requestsPerSec;
        rps[side].push(result.requestsPerSec);
        progress(`metrics round ${round} ${side}: ${describe(result)}${metricsPort ? `, ${scrapes} scrapes` : ''}`);
      } finally {
        clearInterval(scraping);
        await server.stop();
      }
    }
    ratios.push(perRound.on! / perRound.off!);
  }
  say(
    table(
      ['metrics', 'req/s (median)', 'req/s each round'],
      (['off', 'on'] as const).map((side) => [side, fixed(median(rps[side])), rps[side].map((n) => fixed(n)).join(' / ')]),
    ),
  );
  say();
  say(
    `With metrics / without, median of the rounds' ratios (${ratios.map((r) => fixed(r, 3)).join(', ')}): ` +
      `${verdict(median(ratios), METRICS_COST_BAR, true)} (bar: ≥ ${METRICS_COST_BAR}, i.e. GET by id loses ≤ 5 %).`,
  );
  say();
}
