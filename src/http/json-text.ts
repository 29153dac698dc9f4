import type { FastifyReply } from 'fastify';

declare const jsonTextBrand: unique symbol;

/**
 * A response body already serialized as JSON (a page rendered by the database): sent as is, never parsed or
 * serialized again. The brand keeps ordinary strings from being sent as JSON by mistake. UTF-8 bytes where the
 * driver can hand them over (SQLite's BLOB): a page of 100 users is ~18 KB, and decoding it into a string only to
 * encode it again for the socket cost ~20 µs per page.
 */
export type JsonText<Shape> = (string | Buffer) & { readonly [jsonTextBrand]: Shape };

/** Marks text (or its UTF-8 bytes) as the JSON serialization of a value of type Shape. The caller vouches for it. */
export const asJsonText = <Shape>(text: string | Buffer) => text as JsonText<Shape>;

/** Sends pre-serialized JSON: Fastify sends a string or Buffer body as it is, without its serializer. */
export function sendJsonText<Shape>(reply: FastifyReply, json: JsonText<Shape>): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}
