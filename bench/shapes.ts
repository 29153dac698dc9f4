import { ms } from './report.js';
import { RANGE_PROBES } from './seed.js';
import type { Running } from './servers.js';
import { nextLink, timeSequential, type Timed } from './timing.js';
import { userModel } from '../src/users/users.schemas.js';

// The list shapes of the scale checks: every list the API offers by default, timed one request at a time from the
// service's access log (server time), against the bar of 5 ms.

interface Shape {
  label: string;
  path: string;
  /** false: shown for comparison only, not held to the 5 ms bar. */
  checked: boolean;
  /** Filtered lists: when over the bar, the same query with count=false is timed too (is it the count?). */
  filtered?: boolean;
}

/** Every sortable field of the declaration (src/users/users.fields.ts). */
const SORTS = [...userModel.sorts.keys()];

function listShapes(sample: Record<string, unknown>, users: number, progress: (text: string) => void): Shape[] {
  const shapes: Shape[] = [{ label: 'first page', path: '/users/?limit=100', checked: true }];
  for (const field of SORTS) {
    shapes.push({ label: `sort=${field}`, path: `/users/?limit=100&sort=${field}`, checked: true });
    shapes.push({ label: `sort=-${field}`, path: `/users/?limit=100&sort=-${field}`, checked: true });
  }
  const filter = (label: string, query: string) => shapes.push({ label, path: `/users/?limit=100&${query}`, checked: true, filtered: true });
  // Every filter of the declaration: a text filter by the sampled user's value (in upper case for a caseless one),
  // a range filter by the bounds bench/seed.ts gives for its field.
  for (const definition of userModel.filters) {
    if (definition.kind === 'range') continue;
    const value = sample[definition.field.name];
    if (value === null || value === undefined) {
      progress(`no ${definition.param}= shape: the sampled user has no ${definition.field.name}`);
      continue;
    }
    if (definition.kind === 'caseless') {
      const note = definition.field.spec.unique ? 'one match, other case' : 'other case';
      filter(`${definition.param}= (${note})`, `${definition.param}=${encodeURIComponent(String(value).toUpperCase())}`);
    } else {
      filter(`${definition.param}=${String(value)}`, `${definition.param}=${encodeURIComponent(String(value))}`);
    }
  }
  for (const definition of userModel.filters) {
    if (definition.kind !== 'range') continue;
    const probes = RANGE_PROBES[definition.field.name];
    if (!probes) {
      progress(`no ${definition.min}/${definition.max} shapes: bench/seed.ts has no RANGE_PROBES for ${definition.field.name}`);
      continue;
    }
    const { min, max } = definition;
    filter(`${min}=${probes.min}`, `${min}=${probes.min}`);
    filter(`${max}=${probes.max}`, `${max}=${probes.max}`);
    filter(`${min}=${probes.band[0]}&${max}=${probes.band[1]}`, `${min}=${probes.band[0]}&${max}=${probes.band[1]}`);
  }
  if (userModel.filterParams.includes('q')) {
    filter('q=son (common)', 'q=son');
    filter('q=zqx (no match)', 'q=zqx');
  }
  shapes.push({ label: `offset=${users - 100} (reference: offset pages cost O(offset))`, path: `/users/?limit=100&offset=${users - 100}`, checked: false });
  return shapes;
}

/** The list shapes at server time, one request at a time; deep pages follow Link rel="next" from near the end. */
export async function shapeChecks(server: Running, sample: Record<string, unknown>, users: number, samples: number, progress: (text: string) => void): Promise<string[][]> {
  const rows: string[][] = [];
  const record = (shape: Shape, t: Timed, note = '') => {
    const total = t.headers.get('x-total-count');
    const rowsInPage = t.status === 200 ? (JSON.parse(t.body) as unknown[]).length : 0;
    const pass = t.serverMs <= 5 ? 'PASS' : 'FAIL';
    rows.push([shape.label, String(t.status), `${rowsInPage}`, total ?? '—', ms(t.serverMs), ms(t.serverP90Ms), ms(t.clientMs), shape.checked ? pass : 'ref', note]);
    progress(`${shape.label}: server ${ms(t.serverMs)} ms (client ${ms(t.clientMs)} ms)`);
    return pass === 'PASS';
  };
  const samplesFor = async (path: string) => {
    // Slow shapes get fewer samples, so the run stays bounded.
    const probe = await timeSequential(server.url, path, server.logFile, 1, 1);
    return probe.serverMs > 50 ? Math.min(10, samples) : samples;
  };
  const shapes = listShapes(sample, users, progress);
  for (const shape of shapes) {
    const t = await timeSequential(server.url, shape.path, server.logFile, await samplesFor(shape.path));
    if (!record(shape, t) && shape.filtered && shape.checked) {
      const path = `${shape.path}&count=false`;
      const c = await timeSequential(server.url, path, server.logFile, await samplesFor(path));
      record({ label: `  ${shape.label} &count=false`, path, checked: false }, c, 'diagnostic: without X-Total-Count');
    }
  }
  for (const sort of SORTS.flatMap((field) => [field, `-${field}`])) {
    // One untimed offset request near the end, then the keyset page its Link rel="next" points to.
    const near = await fetch(`${server.url}/users/?limit=100&sort=${sort}&offset=${Math.max(0, users - 250)}`);
    await near.arrayBuffer();
    const next = nextLink(near.headers);
    if (!next) {
      rows.push([`deep page sort=${sort} (cursor)`, String(near.status), '—', '—', '—', '—', '—', 'FAIL', 'no Link rel="next"']);
      continue;
    }
    const t = await timeSequential(server.url, next, server.logFile, await samplesFor(next));
    record({ label: `deep page sort=${sort} (cursor)`, path: next, checked: true }, t);
  }
  return rows;
}

/** The bar of a q list with its total at scale: counting every match of a common substring is the costly part. */
export const COMMON_Q_BAR_MS = 50;

/**
 * The most common 3-character q with its total (X-Total-Count, the default), against ≤ 50 ms of server time, and
 * with count=false for reference (the page alone). Rows as the list shapes print them.
 */
export async function commonSearchChecks(server: Running, q: string, samples: number, progress: (text: string) => void): Promise<string[][]> {
  const rows: string[][] = [];
  const shapes = [
    { label: `q=${q} (count: the default)`, path: `/users/?limit=100&q=${encodeURIComponent(q)}`, checked: true },
    { label: `q=${q}&count=false (reference: the page alone)`, path: `/users/?limit=100&q=${encodeURIComponent(q)}&count=false`, checked: false },
  ];
  for (const shape of shapes) {
    const probe = await timeSequential(server.url, shape.path, server.logFile, 1, 1);
    // Slow shapes get fewer samples, so the run stays bounded.
    const t = await timeSequential(server.url, shape.path, server.logFile, probe.serverMs > 200 ? Math.min(10, samples) : samples);
    const rowsInPage = t.status === 200 ? (JSON.parse(t.body) as unknown[]).length : 0;
    const verdict = shape.checked ? (t.status === 200 && t.serverMs <= COMMON_Q_BAR_MS ? 'PASS' : 'FAIL') : 'ref';
    rows.push([shape.label, String(t.status), `${rowsInPage}`, t.headers.get('x-total-count') ?? '—', ms(t.serverMs), ms(t.serverP90Ms), ms(t.clientMs), verdict]);
    progress(`${shape.label}: server ${ms(t.serverMs)} ms (client ${ms(t.clientMs)} ms)`);
  }
  return rows;
}
