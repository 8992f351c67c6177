import { describe, expect, it } from "vitest";
import { type ServiceError, status } from "@grpc/grpc-js";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { CallState } from "../../gen/voicecode/v1/voicecode_pb.js";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { createGrpcJsClient, createGrpcJsHealthClient } from "../support/grpc-js-client.js";
import { PHONE, SECRET, WATCH } from "./fakes.js";
import { startGrpc, track } from "./harness.js";

function serviceError(promise: Promise<unknown>): Promise<ServiceError> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (err: ServiceError) => err,
  );
}

/** Every message, then the final status (OK or the error's). */
function collect<T>(stream: ClientReadableStream<T>): Promise<{ messages: T[]; code: status; details: string }> {
  const messages: T[] = [];
  return new Promise((resolve) => {
    stream.on("data", (m: T) => messages.push(m));
    stream.on("error", () => undefined);
    stream.on("status", (s: { code: status; details: string }) => resolve({ messages, code: s.code, details: s.details }));
  });
}

describe("gRPC port (grpc-js client)", () => {
  it("round-trips Send and GetCall through protobuf-es", async () => {
    const { address } = await startGrpc();
    const client = createGrpcJsClient(address);
    track(() => client.close());

    const sent = await client.send({ phoneNumber: PHONE.ok, code: "1234", provider: "sandbox" });
    expect(sent).toMatchObject({ callId: "01JCALL", provider: "sandbox", providerCallId: "p-1234", state: CallState.ACCEPTED });

    const got = await client.getCall({ callId: "01JCALL" });
    expect(got.call?.callId).toBe("01JCALL");
    expect(got.events.map((e) => e.sequence)).toEqual([1n, 2n]);
  });

  it("maps INVALID_ARGUMENT with the field in the details", async () => {
    const { address } = await startGrpc();
    const client = createGrpcJsClient(address);
    track(() => client.close());
    const err = await serviceError(client.send({ phoneNumber: PHONE.invalid, code: "1234" }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe("phone_number: not a possible number");
  });

  it("maps NOT_FOUND", async () => {
    const { address } = await startGrpc();
    const client = createGrpcJsClient(address);
    track(() => client.close());
    const err = await serviceError(client.getCall({ callId: "nope" }));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toContain("call_id");
  });

  it("turns an unknown error into INTERNAL without its message", async () => {
    const { address } = await startGrpc();
    const client = createGrpcJsClient(address);
    track(() => client.close());
    const err = await serviceError(client.send({ phoneNumber: PHONE.boom, code: "1234" }));
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe("internal error");
    expect(JSON.stringify(err)).not.toContain("hunter2");
  });

  describe.each([
    { path: "pumped", push: false },
    { path: "pushed", push: true },
  ])("WatchStatus ($path)", ({ push }) => {
    it("streams every WatchStatus message, then OK", async () => {
      const { address, fakes } = await startGrpc({ push });
      const client = createGrpcJsClient(address);
      track(() => client.close());
      const result = await collect(client.watchStatus({ target: { case: "callId", value: WATCH.finite } }));
      expect(result.code).toBe(status.OK);
      expect(result.messages.map((m) => m.event?.sequence)).toEqual([1n, 2n, 3n]);
      expect(result.messages.at(-1)?.event?.terminal).toBe(true);
      expect(fakes.counters.watchesReleased).toBe(1);
    });

    it("ends a stream with the mapped status when the handler throws", async () => {
      const { address } = await startGrpc({ push });
      const client = createGrpcJsClient(address);
      track(() => client.close());

      const invalid = await collect(client.watchStatus({ target: { case: "callId", value: WATCH.invalid } }));
      expect(invalid).toMatchObject({ code: status.INVALID_ARGUMENT, messages: [] });
      expect(invalid.details).toMatch(/^target: /);

      const boom = await collect(client.watchStatus({ target: { case: "callId", value: WATCH.boom } }));
      expect(boom.messages).toHaveLength(1);
      expect(boom).toMatchObject({ code: status.INTERNAL, details: "internal error" });
      expect(boom.details).not.toContain(SECRET);
    });
  });

  describe("grpc.health.v1.Health", () => {
    it("Check follows the process health; unknown services are NOT_FOUND", async () => {
      const { address, health } = await startGrpc();
      const client = createGrpcJsHealthClient(address);
      track(() => client.close());

      expect((await client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
      expect((await client.check({ service: "voicecode.v1.VoiceCode" })).status).toBe(ServingStatus.SERVING);
      health.setServing(false);
      expect((await client.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
      const err = await serviceError(client.check({ service: "other.v1.Other" }));
      expect(err.code).toBe(status.NOT_FOUND);
    });

    it("Watch streams each change", async () => {
      const { address, health } = await startGrpc();
      const client = createGrpcJsHealthClient(address);
      track(() => client.close());

      const stream = client.watch({ service: "voicecode.v1.VoiceCode" });
      stream.on("error", () => undefined);
      const seen: ServingStatus[] = [];
      const next = () =>
        new Promise<ServingStatus>((resolve) => {
          stream.once("data", (m: { status: ServingStatus }) => {
            seen.push(m.status);
            resolve(m.status);
          });
        });

      expect(await next()).toBe(ServingStatus.SERVING);
      let received = next();
      health.setServing(false);
      expect(await received).toBe(ServingStatus.NOT_SERVING);
      received = next();
      health.setServing(true);
      expect(await received).toBe(ServingStatus.SERVING);
      expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
      stream.cancel();
    });

    it("Watch of an unknown service says SERVICE_UNKNOWN and stays open", async () => {
      const { address } = await startGrpc();
      const client = createGrpcJsHealthClient(address);
      track(() => client.close());
      const stream = client.watch({ service: "other.v1.Other" });
      stream.on("error", () => undefined);
      const first = await new Promise<{ status: ServingStatus }>((resolve) => stream.once("data", resolve));
      expect(first.status).toBe(ServingStatus.SERVICE_UNKNOWN);
      stream.cancel();
    });
  });
});
