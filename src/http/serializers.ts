import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';

/**
 * Fastify's response serializer factory (fast-json-stringify), compiling each distinct response schema once.
 * Every route declares the same problem+json schema for each of its error statuses; compiled per route and
 * status, that schema was most of the serializer work at start-up. A serializer depends on its schema and the
 * shared schemas only, so equal schemas can share one.
 */
export const buildSharedSerializers: SerializerFactory = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas, options);
  const compiled = new Map<string, ReturnType<typeof compile>>();
  return (route) => {
    const key = JSON.stringify(route.schema);
    let serializer = compiled.get(key);
    if (!serializer) {
      serializer = compile(route);
      compiled.set(key, serializer);
    }
    return serializer;
  };
};
