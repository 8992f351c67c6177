/** Real servers on port 0 around fake handlers, torn down after each test. */
import { afterEach } from "vitest";
import { type ApiServer, type ApiServerOptions, createApiServer } from "../../src/api/http-server.js";
import { createConnectRoutes } from "../../src/api/connect/routes.js";
import { type GrpcServer, createGrpcServer } from "../../src/api/grpc/server.js";
import { type Health, createHealth } from "../../src/api/health.js";
import { type FakeHandlers, createFakeHandlers } from "./fakes.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Closed after the test. */
export function track(close: () => void): void {
  cleanups.push(close);
}

export interface GrpcHarness {
  readonly fakes: FakeHandlers;
  readonly health: Health;
  readonly server: GrpcServer;
  readonly port: number;
  /** host:port for grpc-js */
  readonly address: string;
}

/** `push`: the fakes offer pushWatchStatus, so WatchStatus takes the transport's push path. */
export async function startGrpc(options: { readonly push?: boolean } = {}): Promise<GrpcHarness> {
  const fakes = createFakeHandlers(options);
  const health = createHealth(true);
  const server = createGrpcServer({ handlers: fakes, health });
  const port = await server.listen("127.0.0.1", 0);
  track(() => server.forceClose());
  return { fakes, health, server, port, address: `127.0.0.1:${port}` };
}

export interface ApiHarness {
  readonly fakes: FakeHandlers;
  readonly health: Health;
  readonly server: ApiServer;
  readonly port: number;
  readonly baseUrl: string;
}

/** `options` go to createApiServer as they are (e.g. short timeouts). */
export async function startApi(options: Pick<ApiServerOptions, "timeouts"> = {}): Promise<ApiHarness> {
  const fakes = createFakeHandlers();
  const health = createHealth(true);
  const server = createApiServer({
    routes: createConnectRoutes(fakes),
    health,
    metrics: { contentType: "text/plain; version=0.0.4", render: async () => "voicecode_up 1\n" },
    ...options,
  });
  const port = await server.listen("127.0.0.1", 0);
  track(() => server.forceClose());
  return { fakes, health, server, port, baseUrl: `http://127.0.0.1:${port}` };
}
