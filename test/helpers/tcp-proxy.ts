import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 (to PostgreSQL, in the tests) that a test can cut (every connection dropped, no new ones)
 * and open again on the same port, or freeze: it then passes nothing (a server that stopped answering, or a
 * network that drops packets) without closing a connection, and thawed, it delivers what it held, in order. New
 * connections are accepted while frozen, and get no answer either.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private frozen = false;
  private held: (() => void)[] = [];
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens (again, on the same port once it has one). */
  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {});
      }
      const forward = (from: Socket, to: Socket) => {
        from.on('data', (chunk: Buffer) => this.pass(() => to.write(chunk)));
        from.on('end', () => this.pass(() => to.end()));
        from.on('close', (hadError) => hadError && this.pass(() => to.destroy()));
      };
      forward(client, upstream);
      forward(upstream, client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  private pass(action: () => void): void {
    if (this.frozen) this.held.push(action);
    else action();
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    const held = this.held;
    this.held = [];
    for (const action of held) action();
  }

  /** Drops every connection and stops listening; open() listens again on the same port. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
