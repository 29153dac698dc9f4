import { FieldCounter, MAX_OBJECT_FIELDS } from './json-body.js';

// NDJSON (one JSON value per line, LF or CRLF) read as it streams in, one line at a time. Knows no feature.

/** A line of NDJSON: its value, or why it cannot be read; `line` counts from 1. */
export type NdjsonRecord = { line: number; value: unknown } | { line: number; problem: string };

/** Lines of this many characters or fewer cannot hold an object of more than MAX_OBJECT_FIELDS fields. */
const COUNTED_FROM_CHARS = 8 * 1024;

/** One line as a JSON value, with the body parser's care: an object of too many fields is not parsed. */
function parseLine(line: number, text: string): NdjsonRecord {
  if (text.length > COUNTED_FROM_CHARS && new FieldCounter(MAX_OBJECT_FIELDS).feed(Buffer.from(text))) {
    return { line, problem: `has an object of more than ${MAX_OBJECT_FIELDS} fields` };
  }
  try {
    // JSON.parse makes a key named __proto__ an own property (no prototype is set): the row's schema refuses it.
    return { line, value: JSON.parse(text) as unknown };
  } catch {
    return { line, problem: 'is not valid JSON' };
  }
}

/**
 * Splits NDJSON text fed in pieces into lines and parses each. A line longer than `maxLineChars` is not kept (only
 * reported once its end is found); a blank line is skipped.
 */
export class NdjsonReader {
  private pending = '';
  private tooLong = false;
  private line = 1;

  constructor(private readonly maxLineChars: number) {}

  feed(text: string): NdjsonRecord[] {
    const records: NdjsonRecord[] = [];
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      this.take(text.slice(start, end));
      const record = this.endLine();
      if (record) records.push(record);
      start = end + 1;
    }
    this.take(text.slice(start));
    return records;
  }

  /** The end of the text: the last line, if it had no line break. */
  end(): NdjsonRecord[] {
    const record = this.endLine();
    return record ? [record] : [];
  }

  private take(piece: string): void {
    if (this.tooLong) return;
    if (this.pending.length + piece.length > this.maxLineChars) {
      this.tooLong = true;
      this.pending = '';
    } else {
      this.pending += piece;
    }
  }

  private endLine(): NdjsonRecord | undefined {
    const line = this.line++;
    const text = this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending;
    const tooLong = this.tooLong;
    this.pending = '';
    this.tooLong = false;
    if (tooLong) return { line, problem: `is longer than ${this.maxLineChars} characters` };
    if (text.trim() === '') return undefined;
    return parseLine(line, text);
  }
}
