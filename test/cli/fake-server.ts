/** A real HTTP/2 server with scripted VoiceCode handlers, recording what the CLI sent. */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  type CheckRequest,
  type GetCallRequest,
  type SendRequest,
  VoiceCode,
  type WatchStatusRequest,
} from "../../gen/voicecode/v1/voicecode_pb.js";

export interface FakeServer {
  readonly addr: string;
  readonly sends: SendRequest[];
  readonly gets: GetCallRequest[];
  readonly watches: WatchStatusRequest[];
  readonly checks: CheckRequest[];
  close(): Promise<void>;
}

export async function startFakeServer(impl: Partial<ServiceImpl<typeof VoiceCode>>): Promise<FakeServer> {
  const sends: SendRequest[] = [];
  const gets: GetCallRequest[] = [];
  const watches: WatchStatusRequest[] = [];
  const checks: CheckRequest[] = [];
  const recording: Partial<ServiceImpl<typeof VoiceCode>> = {
    send: (req, ctx) => {
      sends.push(req);
      if (impl.send === undefined) throw new Error("send not scripted");
      return impl.send(req, ctx);
    },
    getCall: (req, ctx) => {
      gets.push(req);
      if (impl.getCall === undefined) throw new Error("getCall not scripted");
      return impl.getCall(req, ctx);
    },
    watchStatus: (req, ctx) => {
      watches.push(req);
      if (impl.watchStatus === undefined) throw new Error("watchStatus not scripted");
      return impl.watchStatus(req, ctx);
    },
    check: (req, ctx) => {
      checks.push(req);
      if (impl.check === undefined) throw new Error("check not scripted");
      return impl.check(req, ctx);
    },
  };
  const server = http2.createServer(connectNodeAdapter({ routes: (router) => router.service(VoiceCode, recording) }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    addr: `http://127.0.0.1:${port}`,
    sends,
    gets,
    watches,
    checks,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
