/**
 * Runs queued compilations one per turn of the event loop (setImmediate), so that requests are answered in
 * between. A compilation that throws is left: it throws again, and is answered 500, where it is needed.
 */
export function compileInBackground(queue: (() => unknown)[]): void {
  const next = () => {
    const compile = queue.shift();
    if (!compile) return;
    try {
      compile();
    } catch {
      // Thrown again by the request that needs it.
    }
    setImmediate(next);
  };
  setImmediate(next);
}
