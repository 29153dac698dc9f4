// CSV as RFC 4180 writes it (CRLF, a field quoted when it holds a comma, a quote, CR or LF, quotes doubled), and
// a streaming reader of it that never holds more than one record. Knows no feature: cells are text.

/** The characters a spreadsheet may read as the start of a formula (OWASP "CSV injection"). */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * A text cell a spreadsheet cannot execute: one that starts like a formula gets a leading single quote. So that
 * the rule can be undone exactly (restoreFormulaText), a text that starts with a quote followed by such a
 * character, or by another quote, gets one too. Every other text is unchanged.
 */
export function neutraliseFormulaText(text: string): string {
  const first = text.charAt(0);
  if (FORMULA_START.has(first)) return `'${text}`;
  if (first === "'" && (FORMULA_START.has(text.charAt(1)) || text.charAt(1) === "'")) return `'${text}`;
  return text;
}

/** The inverse of neutraliseFormulaText: one leading quote before a formula character or a quote is dropped. */
export function restoreFormulaText(text: string): string {
  if (text.charAt(0) !== "'") return text;
  const second = text.charAt(1);
  return FORMULA_START.has(second) || second === "'" ? text.slice(1) : text;
}

/** One CSV field: quoted only when it must be. */
export const csvField = (text: string) => (NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/** One CSV record with its CRLF. */
export const csvRecord = (fields: readonly string[]) => `${fields.map(csvField).join(',')}\r\n`;

/** A record read from CSV text: its fields, or why it cannot be read; `line` is the line it starts on (from 1). */
export type CsvRecord = { line: number; fields: string[] } | { line: number; problem: string };

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote inside a quoted field: the end of the field, or the first of a doubled quote. */
  QuoteInQuoted,
}

/**
 * Reads CSV text fed in pieces (RFC 4180; LF alone also ends a record, and a final record may lack its line
 * break). A record longer than `maxRecordChars` is not kept: it is reported as a problem once its end is found,
 * so that an unterminated quote costs no memory beyond the bound. A blank line is skipped.
 */
export class CsvReader {
  private state = State.FieldStart;
  private field = '';
  private fields: string[] = [];
  private recordChars = 0;
  private tooLong = false;
  /** A quote appeared inside an unquoted field, or text followed a closing quote. */
  private malformed = false;
  private line = 1;
  private recordLine = 1;
  private afterCr = false;

  constructor(private readonly maxRecordChars: number) {}

  /** Reads a piece of text; returns the records it completes. */
  feed(text: string): CsvRecord[] {
    const records: CsvRecord[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      // CRLF is one line break: the LF after a CR that ended a record is skipped.
      if (this.afterCr) {
        this.afterCr = false;
        if (c === '\n' && this.state !== State.Quoted) continue;
      }
      if (this.state === State.Quoted) {
        if (c === '"') this.state = State.QuoteInQuoted;
        else {
          if (c === '\n') this.line++;
          this.append(c);
        }
        continue;
      }
      if (this.state === State.QuoteInQuoted) {
        if (c === '"') {
          this.append('"');
          this.state = State.Quoted;
          continue;
        }
        this.state = State.Unquoted;
        if (c !== ',' && c !== '\r' && c !== '\n') this.malformed = true;
      }
      if (c === ',') {
        this.endField();
      } else if (c === '\r' || c === '\n') {
        this.afterCr = c === '\r';
        const record = this.endRecord();
        if (record) records.push(record);
        this.line++;
        this.recordLine = this.line;
      } else if (c === '"' && this.state === State.FieldStart) {
        this.state = State.Quoted;
      } else {
        if (c === '"') this.malformed = true;
        this.state = State.Unquoted;
        this.append(c);
      }
    }
    return records;
  }

  /** The end of the text: the last record, if it had no line break. */
  end(): CsvRecord[] {
    if (this.state === State.Quoted) {
      const line = this.recordLine;
      this.reset();
      return [{ line, problem: 'has a quoted field that is never closed' }];
    }
    const record = this.endRecord();
    return record ? [record] : [];
  }

  private append(c: string): void {
    if (++this.recordChars > this.maxRecordChars) this.tooLong = true;
    else this.field += c;
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.state = State.FieldStart;
    this.recordChars++;
  }

  private endRecord(): CsvRecord | undefined {
    const blank = this.fields.length === 0 && this.field === '' && this.state === State.FieldStart;
    const line = this.recordLine;
    let record: CsvRecord | undefined;
    if (this.tooLong) record = { line, problem: `is longer than ${this.maxRecordChars} characters` };
    else if (this.malformed) record = { line, problem: 'has a quote inside a field that is not quoted as a whole (RFC 4180)' };
    else if (!blank) {
      this.fields.push(this.field);
      record = { line, fields: this.fields };
    }
    this.reset();
    return record;
  }

  private reset(): void {
    this.fields = [];
    this.field = '';
    this.state = State.FieldStart;
    this.recordChars = 0;
    this.tooLong = false;
    this.malformed = false;
  }
}
