import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../errors.js';

/**
 * The most fields one object of a JSON body may have. Parsing an object costs about a microsecond per field
 * (V8 builds a dictionary), so a 1 MiB body of 90,000 fields costs ~100 ms before any validation: four clients
 * sending such bodies would hold the only thread. No schema of the API comes near this many fields.
 */
export const MAX_OBJECT_FIELDS = 1000;
/** Bodies up to this size cannot hold a costly object; they are parsed without a look first. */
const SCANNED_FROM_LENGTH = 8 * 1024;

/**
 * Whether an object in the JSON text has more than `max` fields: one pass over the characters, counting the
 * `:` of each open object outside strings, stopping at the first object over the limit (for the 90,000-field
 * body: after ~11 KB). Invalid JSON is left to the parser.
 */
export function hasObjectWiderThan(text: Uint8Array | string, max: number): boolean {
  // Structural characters are ASCII, and no byte of a multi-byte UTF-8 character is: bytes and characters agree.
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  // Per open container: its field count for an object, -1 for an array.
  const open: number[] = [];
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++; // \ escapes the next character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b) open.push(0);
    else if (c === 0x5b) open.push(-1);
    else if (c === 0x7d || c === 0x5d) open.pop();
    else if (c === 0x3a && open.length > 0) {
      const top = open.length - 1;
      if (open[top]! >= 0 && ++open[top]! > max) return true;
    }
  }
  return false;
}

/**
 * The JSON body parser: Fastify's own (prototype poisoning refused), after a look at large bodies that refuses
 * an object of more than MAX_OBJECT_FIELDS fields with a 422, without parsing it.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // As bytes: decoding 1 MiB of UTF-8 costs more than the look, and a refused body is never decoded.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length > SCANNED_FROM_LENGTH && hasObjectWiderThan(bytes, MAX_OBJECT_FIELDS)) {
      done(new ValidationError([{ location: ['body'], message: `has an object of more than ${MAX_OBJECT_FIELDS} fields` }]), undefined);
      return;
    }
    // secure-json-parse takes a Buffer too (typed as a string by Fastify).
    parse(request, bytes as unknown as string, done);
  });
}
