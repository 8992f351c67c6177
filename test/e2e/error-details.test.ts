/**
 * Refusals carry google.rpc.ErrorInfo and RetryInfo that standard clients decode: the
 * generated TypeScript client through Connect (API port) and through grpc-js / Connect's
 * gRPC transport (gRPC port, grpc-status-details-bin). The server runs the real default
 * limits here.
 */
import { anyUnpack, durationMs } from "@bufbuild/protobuf/wkt";
import { fromBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { ServiceError } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { connectGrpcClient, connectProtocolClient, grpcJsClient, grpcWebClient } from "../support/clients.js";
import { useTestServer } from "../support/test-server.js";

// The documented defaults (testConfig turns limits off for the rest of the suite).
const fixture = useTestServer({
  VOICECODE_NUMBER_LIMITS: "1/1m,5/1h,10/1d",
  VOICECODE_TENANT_RATE_PER_SECOND: "10",
  VOICECODE_TENANT_DAILY_CAP: "10000",
  VOICECODE_ALLOWED_COUNTRIES: "86",
});

interface Decoded {
  code: number | string;
  reason: string;
  domain: string;
  metadata: Record<string, string>;
  retryMs: number | undefined;
}

async function refusal(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a refusal");
}

function fromConnect(err: unknown): Decoded {
  if (!(err instanceof ConnectError)) throw err;
  const [info] = err.findDetails(ErrorInfoSchema);
  const [retry] = err.findDetails(RetryInfoSchema);
  if (info === undefined) throw new Error("no ErrorInfo");
  return {
    code: err.code,
    reason: info.reason,
    domain: info.domain,
    metadata: info.metadata,
    retryMs: retry?.retryDelay === undefined ? undefined : durationMs(retry.retryDelay),
  };
}

function fromGrpcJs(err: unknown): Decoded {
  const e = err as ServiceError;
  const [bin] = e.metadata.get("grpc-status-details-bin");
  if (!(bin instanceof Buffer)) throw new Error("no grpc-status-details-bin");
  const status = fromBinary(StatusSchema, bin);
  expect(status.code).toBe(e.code);
  const info = status.details.map((d) => anyUnpack(d, ErrorInfoSchema)).find((m) => m !== undefined);
  const retry = status.details.map((d) => anyUnpack(d, RetryInfoSchema)).find((m) => m !== undefined);
  if (info === undefined) throw new Error("no ErrorInfo");
  return {
    code: e.code,
    reason: info.reason,
    domain: info.domain,
    metadata: info.metadata,
    retryMs: retry?.retryDelay === undefined ? undefined : durationMs(retry.retryDelay),
  };
}

const number = (n: number) => `+86137111${String(n).padStart(5, "0")}`;
const RESOURCE_EXHAUSTED = 8;
const PERMISSION_DENIED = 7;

describe("refusals with google.rpc details", () => {
  it("grpc-js reads ErrorInfo and RetryInfo from grpc-status-details-bin", async () => {
    const client = grpcJsClient(fixture.server.grpcUrl);
    await client.send({ phoneNumber: number(1), code: "1234" });
    const d = fromGrpcJs(await refusal(client.send({ phoneNumber: number(1), code: "1234" })));
    expect(d).toMatchObject({
      code: RESOURCE_EXHAUSTED,
      reason: "NUMBER_MINUTE_LIMIT",
      domain: "voicecode.v1",
      metadata: { limit: "1", window: "1m" },
    });
    // Real clock: the wait is under the minute and more than the time this test took.
    expect(d.retryMs).toBeGreaterThan(0);
    expect(d.retryMs).toBeLessThanOrEqual(60_000);
    const denied = fromGrpcJs(await refusal(client.send({ phoneNumber: "+14155552671", code: "1234" })));
    expect(denied).toMatchObject({ code: PERMISSION_DENIED, reason: "DESTINATION_COUNTRY_NOT_ALLOWED", retryMs: undefined });
    client.close();
  });

  it.each([
    ["Connect gRPC transport", (u: { grpcUrl: string; apiUrl: string }) => connectGrpcClient(u.grpcUrl), 2],
    ["Connect protocol", (u: { grpcUrl: string; apiUrl: string }) => connectProtocolClient(u.apiUrl), 3],
    ["gRPC-Web", (u: { grpcUrl: string; apiUrl: string }) => grpcWebClient(u.apiUrl), 4],
  ])("the generated TypeScript client reads them through the %s", async (_name, make, n) => {
    const client = make(fixture.server);
    await client.send({ phoneNumber: number(n), code: "1234" });
    const d = fromConnect(await refusal(client.send({ phoneNumber: number(n), code: "1234" })));
    expect(d).toMatchObject({ reason: "NUMBER_MINUTE_LIMIT", domain: "voicecode.v1", metadata: { window: "1m" } });
    expect(d.retryMs).toBeGreaterThan(0);
    expect(d.retryMs).toBeLessThanOrEqual(60_000);
    client.close();
  });

  it("counts refusals by tenant and reason in /metrics", async () => {
    const text = await (await fetch(`${fixture.server.apiUrl}/metrics`)).text();
    expect(text).toMatch(/voicecode_send_refusals_total\{tenant="default",reason="NUMBER_MINUTE_LIMIT"\} [1-9]/);
  });
});
