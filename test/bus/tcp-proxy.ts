/**
 * A loopback TCP proxy in front of PostgreSQL that can play a broken network: "hole" holds
 * new connections open without ever answering (a black-holed route), freeze() stops every
 * existing connection mid-stream without closing it (a half-open link). Nothing here
 * depends on timing: each mode holds until the test changes it.
 */
import net from "node:net";

export interface TcpProxy {
  /** Points a connection string at the proxy instead of the real server. */
  url(target: string): string;
  /** What new connections get: relayed to the server, or held unanswered. */
  mode: "forward" | "hole";
  /** Connections held unanswered by the hole, still open. */
  readonly held: number;
  /** Stops relaying on every current connection, leaving them open. */
  freeze(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(upstreamHost: string, upstreamPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const holding = new Set<net.Socket>();
  const frozen: Array<() => void> = [];
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      holding.delete(socket);
    });
    socket.on("error", () => socket.destroy());
  };
  const proxy: TcpProxy = {
    mode: "forward",
    url(target) {
      const url = new URL(target);
      url.hostname = "127.0.0.1";
      url.port = String((server.address() as net.AddressInfo).port);
      return url.toString();
    },
    get held() {
      return holding.size;
    },
    freeze() {
      for (const stop of frozen.splice(0)) stop();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((client) => {
    track(client);
    if (proxy.mode === "hole") {
      // Read and drop whatever arrives, so the client's writes never block; answer nothing.
      holding.add(client);
      client.on("data", () => undefined);
      return;
    }
    const upstream = net.connect(upstreamPort, upstreamHost);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    frozen.push(() => {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return proxy;
}
