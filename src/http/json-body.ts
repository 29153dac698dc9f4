import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyInstance } from 'fastify';
import { ValidationError } from '../errors.js';

/**
 * The most fields one object of a JSON body may have. Parsing an object costs about a microsecond per field
 * (V8 builds a dictionary), so a 1 MiB body of 90,000 fields costs ~100 ms before any validation, and reading
 * it to its end a few ms more: four clients sending such bodies would hold the only thread. No schema of the API
 * comes near this many fields.
 */
export const MAX_OBJECT_FIELDS = 1000;
/** Bodies up to this size cannot hold a costly object: the fields are counted only beyond it. */
const COUNTED_FROM_LENGTH = 8 * 1024;

/**
 * Counts the fields of each open object of a JSON text fed to it in pieces (bytes: JSON's structural characters
 * are ASCII, and no byte of a multi-byte UTF-8 character is), outside strings, at every depth. Invalid JSON is
 * left to the parser.
 */
export class FieldCounter {
  // Per open container: its field count for an object, -1 for an array.
  private readonly open: number[] = [];
  private inString = false;
  private escaped = false;

  constructor(private readonly max: number) {}

  /** Reads the next piece; true as soon as an object has more than `max` fields. */
  feed(bytes: Uint8Array): boolean {
    const open = this.open;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true; // \ escapes the next character
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b) open.push(0);
      else if (c === 0x5b) open.push(-1);
      else if (c === 0x7d || c === 0x5d) open.pop();
      else if (c === 0x3a && open.length > 0) {
        const top = open.length - 1;
        if (open[top]! >= 0 && ++open[top]! > this.max) return true;
      }
    }
    return false;
  }
}

type Done = (error: Error | null, body?: unknown) => void;

/**
 * The JSON body parser. It reads the body as Fastify's own reader does (BODY_LIMIT while reading, Content-Length
 * checked at the end), and beyond 8 KiB counts the fields of its objects as the bytes arrive: at the first object
 * of more than MAX_OBJECT_FIELDS fields it stops reading and answers 422 with one problem (Fastify closes the
 * connection after an error of the parser, as after a 413): such a body is never read to its end, decoded or
 * parsed. Then Fastify's own JSON parsing (prototype poisoning refused).
 */
export function installJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (request, payload: IncomingMessage, done: Done) => {
    const declared = Number(request.headers['content-length']);
    if (declared > bodyLimit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    const chunks: Buffer[] = [];
    let received = 0;
    let counter: FieldCounter | undefined;
    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    const tooWide = () => {
      stop();
      done(new ValidationError([{ location: ['body'], message: `has an object of more than ${MAX_OBJECT_FIELDS} fields` }]));
    };
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (received > bodyLimit) {
        stop();
        return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      }
      chunks.push(chunk);
      if (counter) {
        if (counter.feed(chunk)) tooWide();
      } else if (received > COUNTED_FROM_LENGTH) {
        counter = new FieldCounter(MAX_OBJECT_FIELDS);
        if (chunks.some((piece) => counter!.feed(piece))) tooWide();
      }
    }
    function onEnd(error?: Error & { statusCode?: number }): void {
      stop();
      if (error) {
        if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
        return done(error);
      }
      if (!Number.isNaN(declared) && received !== declared) return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      // secure-json-parse takes a Buffer too (typed as a string by Fastify).
      parse(request, Buffer.concat(chunks, received) as unknown as string, done);
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  });
}
