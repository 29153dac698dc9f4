import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Stack traces of the build name src/*.ts lines, through the bundle's source maps, which are read only when a stack
// is formatted. Node's own support (process.setSourceMapsEnabled) reads every chunk's map at start-up, which kept
// ~11 MB of RSS for the server's 1.2 MB map, and decodes a whole map into arrays at the first stack trace: 145 ms on
// the event loop and ~45 MB more (docs/PERFORMANCE.md, "Sixth pass"). Here a map is indexed by generated line in one
// pass that allocates nothing per mapping, and a frame decodes only its own line.

/** A position in an original source: its path (or URL), and its 0-based line and column. */
export interface OriginalPosition {
  source: string;
  line: number;
  column: number;
}

/** What a source map (version 3) holds that a lookup needs. */
export interface SourceMapPayload {
  mappings: string;
  sources: string[];
  sourceRoot?: string;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGITS = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) DIGITS[BASE64.charCodeAt(i)] = i;
const COMMA = 44;
const SEMICOLON = 59;
/** The segment readSegment() read last: its fields, then (at COUNT) how many it has, 1, 4 or 5. */
const segment = new Int32Array(6);
const COUNT = 5;

/**
 * A source map's mappings, read by generated line. Each segment is 1, 4 or 5 base64 VLQs (generated column; source,
 * original line, original column, name): the column is relative to the previous segment of its line, the rest to
 * the previous segment of the whole map, so each line starts from the state the lines before it left.
 */
export class LineIndexedSourceMap {
  private readonly mappings: string;
  private readonly sources: string[];
  private readonly resolved: (string | undefined)[] = [];
  /**
   * Per generated line, and once more for the end of the map, 5 numbers: the offset of its first segment, then the
   * state carried into it (source, original line, original column, and 1 when the segment before it maps somewhere).
   */
  private readonly lines: Int32Array;

  constructor(
    payload: SourceMapPayload,
    /** Where the map is: its sources are relative to it. */
    private readonly mapUrl: string,
  ) {
    if (typeof payload.mappings !== 'string' || !Array.isArray(payload.sources)) throw new TypeError('not a source map');
    this.mappings = payload.mappings;
    this.sources = payload.sources.map((source) => (payload.sourceRoot ? `${payload.sourceRoot.replace(/\/?$/, '/')}${source}` : source));
    // One pass over the text (~1.2 M characters for the server's chunk), allocating nothing per segment.
    const lines: number[] = [0, 0, 0, 0, 0];
    let source = 0;
    let line = 0;
    let column = 0;
    let mapped = 0;
    const text = this.mappings;
    for (let at = 0; at < text.length; ) {
      const code = text.charCodeAt(at);
      if (code === SEMICOLON) {
        at++;
        lines.push(at, source, line, column, mapped);
      } else if (code === COMMA) {
        at++;
      } else {
        at = this.readSegment(at);
        mapped = segment[COUNT]! >= 4 ? 1 : 0;
        if (mapped) {
          source += segment[1]!;
          line += segment[2]!;
          column += segment[3]!;
        }
      }
    }
    // Past the last line: the state the whole map leaves, as for a position after a line's last segment.
    lines.push(text.length, source, line, column, mapped);
    this.lines = Int32Array.from(lines);
  }

  /** The original position of a generated one (0-based): the last mapping at or before it, as Node's SourceMap finds. */
  find(generatedLine: number, generatedColumn: number): OriginalPosition | undefined {
    if (generatedLine < 0) return undefined;
    const base = 5 * Math.min(generatedLine, this.lines.length / 5 - 1);
    let source = this.lines[base + 1]!;
    let line = this.lines[base + 2]!;
    let column = this.lines[base + 3]!;
    let mapped = this.lines[base + 4] === 1;
    const text = this.mappings;
    let generated = 0;
    for (let at = this.lines[base]!; at < text.length; ) {
      const code = text.charCodeAt(at);
      if (code === SEMICOLON) break;
      if (code === COMMA) {
        at++;
        continue;
      }
      at = this.readSegment(at);
      generated += segment[0]!;
      if (generated > generatedColumn) break;
      mapped = segment[COUNT]! >= 4;
      if (mapped) {
        source += segment[1]!;
        line += segment[2]!;
        column += segment[3]!;
      }
    }
    if (!mapped) return undefined;
    const path = this.sourceAt(source);
    return path === undefined ? undefined : { source: path, line, column };
  }

  /** A source as a path (or, when it is not a file, a URL), resolved against the map's location. */
  private sourceAt(index: number): string | undefined {
    if (index < 0 || index >= this.sources.length) return undefined;
    if (this.resolved[index] === undefined) {
      const url = new URL(this.sources[index]!, this.mapUrl);
      this.resolved[index] = url.protocol === 'file:' ? fileURLToPath(url) : url.href;
    }
    return this.resolved[index];
  }

  /**
   * Decodes the segment that starts at `at` into `segment` (COUNT fields, each a base64 VLQ whose lowest bit is
   * the sign) and returns where it ends: at its `,` or `;`, or the end of the text.
   */
  private readSegment(at: number): number {
    const text = this.mappings;
    let count = 0;
    let value = 0;
    let shift = 0;
    for (; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if (code === COMMA || code === SEMICOLON) break;
      const digit = code < 128 ? DIGITS[code]! : -1;
      if (digit < 0 || count === 5) throw new SyntaxError(`invalid source map mappings at ${at}`);
      // A map's numbers are far below 2^31: no line or column is that large.
      value |= (digit & 31) << shift;
      if (digit & 32) {
        shift += 5;
      } else {
        segment[count++] = value & 1 ? -(value >>> 1) : value >>> 1;
        value = 0;
        shift = 0;
      }
    }
    segment[COUNT] = count;
    if (shift !== 0) throw new SyntaxError(`invalid source map mappings: a number cut short at ${at}`);
    return at;
  }
}

/** Each script's map, read at its first frame; null when it has none. */
const maps = new Map<string, LineIndexedSourceMap | null>();

/** The map of a script (a file: URL or a path), beside it as `<script>.map` (esbuild's linked maps). */
function mapOf(script: string): LineIndexedSourceMap | null {
  let map = maps.get(script);
  if (map === undefined) {
    map = null;
    try {
      const path = script.startsWith('file:') ? fileURLToPath(script) : script;
      if (/\.[cm]?js$/.test(path) && path.startsWith('/') && existsSync(`${path}.map`)) {
        const mapPath = `${path}.map`;
        map = new LineIndexedSourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as SourceMapPayload, pathToFileURL(mapPath).href);
      }
    } catch {
      map = null; // an unreadable or invalid map: the frame keeps its generated position
    }
    maps.set(script, map);
  }
  return map;
}

/** One frame as V8 writes it, with its position in the original source when a map has one. */
function frameText(site: NodeJS.CallSite): string {
  const text = String(site);
  try {
    const script = site.getFileName();
    const line = site.getLineNumber();
    const column = site.getColumnNumber();
    if (!script || script.startsWith('node:') || line === null || column === null) return text;
    const original = mapOf(script)?.find(line - 1, column - 1);
    // Only a file is a place to read: the build's entries map their own line to esbuild's "entry:" namespace.
    if (original === undefined || !original.source.startsWith('/')) return text;
    const generated = `${script}:${line}:${column}`;
    const at = text.lastIndexOf(generated);
    if (at < 0) return text;
    return `${text.slice(0, at)}${original.source}:${original.line + 1}:${original.column + 1}${text.slice(at + generated.length)}`;
  } catch {
    return text;
  }
}

/**
 * Formats every stack trace of this thread with the original positions of the frames whose script has a map: the
 * format of V8 and Node (`Error: message\n    at frame`). Called first by each entry of the build.
 */
export function mapStackTraces(): void {
  Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => {
    let header: string;
    try {
      header = Error.prototype.toString.call(error);
    } catch {
      header = 'Error';
    }
    return frames.length === 0 ? header : `${header}\n    at ${frames.map(frameText).join('\n    at ')}`;
  };
}
