/**
 * TLS and mTLS on the gRPC and API ports, from grpc-js, the Connect clients and raw TLS
 * sockets; certificates rotated on disk are served to new connections without a restart.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VoiceCode } from "../../gen/voicecode/v1/voicecode_pb.js";
import { rpcFailure } from "../support/clients.js";
import { type Pair, createTestCa } from "../support/certs.js";
import { type Carrier, type TestServer, createCarrier, startTestServer } from "../support/test-server.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";

const ca = createTestCa();
const otherCa = createTestCa("some-other-ca");
afterAll(() => {
  ca.remove();
  otherCa.remove();
});

/** The certificate a fresh TLS connection to the port is served (its SHA-256 fingerprint). */
function peerFingerprint(port: number, alpn: string, client?: Pair): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: "127.0.0.1", port, ca: ca.ca, ALPNProtocols: [alpn], cert: client?.cert, key: client?.key },
      () => {
        const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? "";
        socket.destroy();
        resolve(fingerprint);
      },
    );
    socket.once("error", reject);
  });
}

/** A grpc-js Send over TLS (with a client certificate when given); rejects with the ServiceError. */
async function grpcJsSend(server: TestServer, client?: Pair) {
  const credentials = grpc.credentials.createSsl(ca.ca, client?.key ?? null, client?.cert ?? null);
  const stub = createGrpcJsClient(`127.0.0.1:${server.grpcPort}`, {}, undefined, credentials);
  try {
    return await stub.send({ phoneNumber: "+8613711112222", code: "1234" }, { deadline: Date.now() + 10_000 });
  } finally {
    stub.close();
  }
}

function connectClients(server: TestServer, client?: Pair) {
  const nodeOptions = { ca: ca.ca, cert: client?.cert, key: client?.key };
  return [
    {
      name: "Connect gRPC on the gRPC port",
      client: createClient(VoiceCode, createGrpcTransport({ baseUrl: `https://127.0.0.1:${server.grpcPort}`, nodeOptions })),
    },
    ...(["1.1", "2"] as const).map((httpVersion) => ({
      name: `Connect JSON over HTTP/${httpVersion} on the API port`,
      client: createClient(
        VoiceCode,
        createConnectTransport({ baseUrl: `https://127.0.0.1:${server.apiPort}`, httpVersion, nodeOptions }),
      ),
    })),
  ];
}

describe("TLS on the gRPC and API ports", () => {
  const serverPair = ca.server("tls-server");
  let carrier: Carrier;
  let server: TestServer;
  beforeAll(async () => {
    carrier = createCarrier();
    server = await startTestServer(carrier, {
      VOICECODE_TLS_CERT_FILE: serverPair.certFile,
      VOICECODE_TLS_KEY_FILE: serverPair.keyFile,
    });
  });
  afterAll(async () => {
    await server.stop();
    carrier.network.close();
  });

  it("serves Send to grpc-js and to the Connect clients over TLS", async () => {
    expect((await grpcJsSend(server)).callId).toMatch(/^[0-9A-Z]{26}$/);
    for (const { name, client } of connectClients(server)) {
      const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234" });
      expect(sent.callId, name).toMatch(/^[0-9A-Z]{26}$/);
    }
  });

  it("offers h2 and http/1.1 by ALPN on the API port, h2 on the gRPC port", async () => {
    expect(await peerFingerprint(server.apiPort, "h2")).toBe(serverPair.fingerprint);
    expect(await peerFingerprint(server.apiPort, "http/1.1")).toBe(serverPair.fingerprint);
    expect(await peerFingerprint(server.grpcPort, "h2")).toBe(serverPair.fingerprint);
    const res = await fetchHealthz(server.apiPort);
    expect(res).toBe(200);
  });

  it("refuses a plaintext client on the gRPC port", async () => {
    const insecure = createGrpcJsClient(`127.0.0.1:${server.grpcPort}`);
    try {
      const failure = rpcFailure(
        await insecure.send({ phoneNumber: "+8613711112222", code: "1234" }, { deadline: Date.now() + 5000 }).then(
          () => {
            throw new Error("plaintext Send succeeded");
          },
          (err: unknown) => err,
        ),
      );
      expect(failure.code).toBe("unavailable");
    } finally {
      insecure.close();
    }
  });
});

/** GET /healthz over HTTPS/1.1 with the test CA; resolves with the status. */
function fetchHealthz(port: number, client?: Pair): Promise<number> {
  return import("node:https").then(
    (https) =>
      new Promise<number>((resolve, reject) => {
        const req = https.get(
          { host: "127.0.0.1", port, path: "/healthz", ca: ca.ca, cert: client?.cert, key: client?.key },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.once("error", reject);
      }),
  );
}

async function failureOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return rpcFailure(err);
  }
  throw new Error("expected the RPC to fail");
}

describe("mTLS: client certificates signed by the configured CA", () => {
  const serverPair = ca.server("mtls-server");
  const clientPair = ca.client("mtls-client");
  const stranger = otherCa.client("stranger");
  let carrier: Carrier;
  let server: TestServer;
  beforeAll(async () => {
    carrier = createCarrier();
    server = await startTestServer(carrier, {
      VOICECODE_TLS_CERT_FILE: serverPair.certFile,
      VOICECODE_TLS_KEY_FILE: serverPair.keyFile,
      VOICECODE_TLS_CLIENT_CA_FILE: ca.caFile,
    });
  });
  afterAll(async () => {
    await server.stop();
    carrier.network.close();
  });

  it("serves clients with a certificate from the CA", async () => {
    expect((await grpcJsSend(server, clientPair)).callId).toMatch(/^[0-9A-Z]{26}$/);
    for (const { name, client } of connectClients(server, clientPair)) {
      const sent = await client.send({ phoneNumber: "+8613711112222", code: "1234" });
      expect(sent.callId, name).toMatch(/^[0-9A-Z]{26}$/);
    }
  });

  it("refuses the gRPC port to a client without a certificate, or with one from another CA", async () => {
    expect((await failureOf(grpcJsSend(server))).code).toBe("unavailable");
    expect((await failureOf(grpcJsSend(server, stranger))).code).toBe("unavailable");
  });

  it("answers the API port's RPCs 401 unauthenticated without a certificate, but its probes 200", async () => {
    for (const { name, client } of connectClients(server).slice(1)) {
      const failure = await failureOf(client.send({ phoneNumber: "+8613711112222", code: "1234" }));
      expect(failure.code, name).toBe("unauthenticated");
    }
    for (const { name, client } of connectClients(server, stranger).slice(1)) {
      const failure = await failureOf(client.send({ phoneNumber: "+8613711112222", code: "1234" }));
      expect(failure.code, name).toBe("unauthenticated");
    }
    expect(await fetchHealthz(server.apiPort)).toBe(200);
  });
});

describe("certificate rotation without a restart", () => {
  const dir = ca.dir;
  const live = { certFile: join(dir, "live.crt"), keyFile: join(dir, "live.key") };
  const before = ca.server("before");
  const after = ca.server("after");
  let carrier: Carrier;
  let server: TestServer;
  beforeAll(async () => {
    copyFileSync(before.certFile, live.certFile);
    copyFileSync(before.keyFile, live.keyFile);
    carrier = createCarrier();
    server = await startTestServer(carrier, {
      VOICECODE_TLS_CERT_FILE: live.certFile,
      VOICECODE_TLS_KEY_FILE: live.keyFile,
      VOICECODE_TLS_RELOAD_MS: "20",
    });
  });
  afterAll(async () => {
    await server.stop();
    carrier.network.close();
  });

  /** Resolves once a new connection to the port is served `fingerprint` (the poll is async). */
  async function served(port: number, alpn: string, fingerprint: string): Promise<string> {
    for (;;) {
      const seen = await peerFingerprint(port, alpn);
      if (seen === fingerprint) return seen;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("serves the new certificate on both ports to new connections after the files change", async () => {
    expect(await peerFingerprint(server.grpcPort, "h2")).toBe(before.fingerprint);
    expect(await peerFingerprint(server.apiPort, "h2")).toBe(before.fingerprint);
    copyFileSync(after.certFile, live.certFile);
    copyFileSync(after.keyFile, live.keyFile);
    expect(await served(server.grpcPort, "h2", after.fingerprint)).toBe(after.fingerprint);
    expect(await served(server.apiPort, "http/1.1", after.fingerprint)).toBe(after.fingerprint);
    expect((await grpcJsSend(server)).callId).toMatch(/^[0-9A-Z]{26}$/);
  });
});
