import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

/** The text of a scrape and its content type (Prometheus text format). */
export interface MetricsSource {
  contentType: string;
  render(): Promise<string>;
}

/**
 * The metrics listener: GET (or HEAD) /metrics on a port of its own, apart from the API, so that metrics are
 * never served on the public port by accident. Anything else is 404; a failed scrape is 500 with no detail.
 */
export async function listenMetrics(source: MetricsSource, host: string, port: number, onError: (error: unknown) => void): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== '/metrics') return void response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return void response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method not allowed\n');
    }
    source.render().then(
      (text) => {
        response.writeHead(200, { 'content-type': source.contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        onError(error);
        response.writeHead(500, { 'content-type': 'text/plain' }).end('The metrics could not be collected\n');
      },
    );
  });
  // A scrape is a short request: Node's defaults for slow clients are far longer than any scraper needs.
  server.headersTimeout = 10000;
  server.requestTimeout = 10000;
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

/** Stops the listener and its connections. */
export async function closeMetrics(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
