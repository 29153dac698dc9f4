import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';
import { compileInBackground } from './background-compile.js';

type Serialize = (data: unknown) => string;

/**
 * Fastify's response serializer factory (fast-json-stringify), compiling each distinct response schema once.
 * Every route declares the same problem+json schema for each of its error statuses; compiled per route and
 * status, that schema was most of the serializer work at start-up. A serializer depends on its schema and the
 * shared schemas only, so equal schemas can share one.
 *
 * Nothing is compiled at start-up either: a serializer is compiled at its first use, and that first use (the first
 * response of the app, as a rule its first health check) starts compiling the others in the background, one per
 * turn of the event loop so that requests are answered in between.
 */
export const buildSharedSerializers: SerializerFactory = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas, options);
  const shared = new Map<string, Serialize>();
  const pending: (() => unknown)[] = [];
  let warming = false;
  const warm = () => {
    warming = true;
    compileInBackground(pending);
  };
  return (route) => {
    const key = JSON.stringify(route.schema);
    let serializer = shared.get(key);
    if (!serializer) {
      let compiled: Serialize | undefined;
      // Not kept when it throws: each response that needs the serializer tries again, and fails the same way.
      const compileOnce = () => (compiled ??= compile(route) as Serialize);
      serializer = (data) => {
        if (!warming) warm();
        return (compiled ?? compileOnce())(data);
      };
      pending.push(compileOnce);
      shared.set(key, serializer);
    }
    return serializer;
  };
};
