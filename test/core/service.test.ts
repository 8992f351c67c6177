import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SendRequestSchema, WatchStatusRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { createLocalBus } from "../../src/bus/bus.js";
import { VoiceCodeError } from "../../src/core/errors.js";
import { CallState, FailureReason } from "../../src/core/model.js";
import type { InboundEvent, Provider, SendOutcome } from "../../src/core/provider.js";
import { createProviderRegistry } from "../../src/core/providers.js";
import { createVoiceCodeService, type VoiceCodeService } from "../../src/core/service.js";
import { createKeyring } from "../../src/secrets/keyring.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { testKeyring } from "../support/keyring.js";

/** A provider whose answers the test releases by hand. */
function gatedProvider() {
  const gates: Array<(o: SendOutcome) => void> = [];
  const provider: Provider = {
    name: "gated",
    send: () => new Promise<SendOutcome>((resolve) => gates.push(resolve)),
    webhook: {
      parse: () => [],
      ack: () => ({ status: 200, headers: {}, body: "" }),
      retryLater: () => ({ status: 503, headers: {}, body: "" }),
    },
  };
  return { provider, gates };
}

let store: Store;
let service: VoiceCodeService;
let gates: Array<(o: SendOutcome) => void>;
const bus = createLocalBus();

beforeEach(() => {
  store = createSqliteStore({ path: ":memory:", keyring: testKeyring() });
  const gated = gatedProvider();
  gates = gated.gates;
  service = createVoiceCodeService({
    store,
    bus,
    providers: createProviderRegistry([gated.provider], "gated"),
    keyring: createKeyring(randomBytes(32)),
    logger: pino({ level: "silent" }),
  });
});
afterEach(() => store.close());

const sendReq = (init = {}) =>
  create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", ...init });
const accepted = (id: string): SendOutcome => ({ kind: "accepted", providerCallId: id, providerCode: "0", providerText: "ok" });
const CALLER = { tenant: "default" };
const flushIo = () => new Promise((r) => setImmediate(r));

describe("VoiceCode service core", () => {
  it("records the call before asking the provider (nothing lost if the process dies)", async () => {
    const sending = service.send(sendReq({ clientReference: "ref-1" }), new AbortController().signal, CALLER);
    await flushIo();
    expect(gates).toHaveLength(1);
    const events = await store.listEvents({ clientReference: "ref-1" }, 0, 10);
    expect(events).toEqual([]); // PENDING has no event, but the call row exists:
    gates[0]!(accepted("p-1"));
    const res = await sending;
    expect((await store.getCall(res.callId))?.state).toBe(CallState.ACCEPTED);
  });

  it("drain waits for in-flight Sends, then refuses new ones with UNAVAILABLE", async () => {
    const sending = service.send(sendReq(), new AbortController().signal, CALLER);
    await flushIo();
    let drained = false;
    const draining = service.drain().then(() => {
      drained = true;
    });
    await flushIo();
    expect(drained).toBe(false);
    expect(service.inFlightSends).toBe(1);
    gates[0]!(accepted("p-2"));
    expect((await sending).state).toBe(CallState.ACCEPTED);
    await draining;
    expect(drained).toBe(true);
    await expect(service.send(sendReq(), new AbortController().signal, CALLER)).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
  });

  it("drain ends open watches with UNAVAILABLE naming the resume point", async () => {
    const sending = service.send(sendReq({ clientReference: "w" }), new AbortController().signal, CALLER);
    await flushIo();
    gates[0]!(accepted("p-3"));
    await sending;
    const watch = service.watchStatus(
      create(WatchStatusRequestSchema, { target: { case: "clientReference", value: "w" } }),
      new AbortController().signal,
      CALLER,
    );
    const it = watch[Symbol.asyncIterator]();
    const first = await it.next();
    const seq = first.value?.event?.sequence;
    expect(first.value?.event?.state).toBe(CallState.ACCEPTED);
    const next = it.next();
    await service.drain();
    const err = await next.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VoiceCodeError);
    expect((err as VoiceCodeError).code).toBe("UNAVAILABLE");
    expect((err as VoiceCodeError).message).toContain(`after_sequence=${seq}`);
    expect(bus.subscriberCount).toBe(0);
  });

  it("drain ends every one of many open watches, without piling listeners on one signal", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const watches = Array.from({ length: 50 }, (_, i) =>
        service
          .watchStatus(
            create(WatchStatusRequestSchema, { target: { case: "clientReference", value: `many-${i}` } }),
            new AbortController().signal,
            { tenant: "default" },
          )
          [Symbol.asyncIterator](),
      );
      const endings = watches.map((w) => w.next().catch((e: unknown) => e));
      await flushIo();
      expect(bus.subscriberCount).toBe(50);
      await service.drain();
      for (const ending of await Promise.all(endings)) {
        expect(ending).toBeInstanceOf(VoiceCodeError);
        expect((ending as VoiceCodeError).code).toBe("UNAVAILABLE");
      }
      expect(bus.subscriberCount).toBe(0);
      // Warnings are emitted on a later tick.
      await flushIo();
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("a watch opened after drain started ends with UNAVAILABLE at once", async () => {
    await service.drain();
    const watch = service.watchStatus(
      create(WatchStatusRequestSchema, { target: { case: "clientReference", value: "late" } }),
      new AbortController().signal,
      { tenant: "default" },
    );
    await expect(watch[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(bus.subscriberCount).toBe(0);
  });

  it("a client that cancels its watch releases the subscription", async () => {
    const sending = service.send(sendReq({ clientReference: "x" }), new AbortController().signal, CALLER);
    await flushIo();
    gates[0]!(accepted("p-4"));
    await sending;
    const abort = new AbortController();
    const it = service
      .watchStatus(create(WatchStatusRequestSchema, { target: { case: "clientReference", value: "x" } }), abort.signal, CALLER)
      [Symbol.asyncIterator]();
    await it.next();
    const pending = it.next();
    expect(bus.subscriberCount).toBe(1);
    abort.abort();
    expect((await pending).done).toBe(true);
    expect(bus.subscriberCount).toBe(0);
  });

  it("replay and live join without gap or duplicate while events keep arriving", async () => {
    const sending = service.send(sendReq({ clientReference: "seam" }), new AbortController().signal, CALLER);
    await flushIo();
    gates[0]!(accepted("p-5"));
    const { callId } = await sending;
    const push = (n: number, state: CallState): InboundEvent => ({
      dedupeKey: `k${n}`,
      providerCallId: "p-5",
      callId,
      state,
      failureReason: FailureReason.UNSPECIFIED,
      providerCode: String(n),
      providerText: "",
      occurredAtMs: undefined,
    });
    const abort = new AbortController();
    const seen: number[] = [];
    const reading = (async () => {
      const watch = service.watchStatus(
        create(WatchStatusRequestSchema, { target: { case: "clientReference", value: "seam" } }),
        abort.signal,
        CALLER,
      );
      for await (const r of watch) {
        seen.push(Number(r.event?.sequence));
        if (seen.length === 4) break;
      }
    })();
    // Events land while the reader is between replay and live.
    for (const [n, state] of [[1, CallState.DIALING], [2, CallState.RINGING], [3, CallState.COMPLETED]] as const) {
      const r = await store.ingest("gated", [push(n, state)], n);
      bus.publish(r.appended);
      await flushIo();
    }
    await reading;
    const stored = (await store.listEvents({ clientReference: "seam" }, 0, 10)).map((e) => e.sequence);
    expect(seen).toEqual(stored);
  });
});
