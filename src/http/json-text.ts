import type { FastifyReply } from 'fastify';

declare const jsonTextBrand: unique symbol;

/**
 * A response body already serialized as JSON (a page rendered by the database): sent as is, never parsed or
 * serialized again. The brand keeps ordinary strings from being sent as JSON by mistake.
 */
export type JsonText<Shape> = string & { readonly [jsonTextBrand]: Shape };

/** Marks text as the JSON serialization of a value of type Shape. The caller vouches for it. */
export const asJsonText = <Shape>(text: string) => text as JsonText<Shape>;

/** Sends pre-serialized JSON: Fastify sends a string body as it is, without its serializer. */
export function sendJsonText<Shape>(reply: FastifyReply, json: JsonText<Shape>): FastifyReply {
  return reply.type('application/json').send(json);
}
