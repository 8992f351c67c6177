/**
 * How Huawei's two verdicts on a call (the `disconnect` status push and the CDR) settle
 * it in a real store, in either order, with or without the disconnect's stateCode.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import { createHuaweiWebhook } from "../../../src/providers/huawei/webhook.js";
import { createSqliteStore } from "../../../src/store/sqlite/index.js";
import type { Store } from "../../../src/store/store.js";
import { testKeyring } from "../../support/keyring.js";

const SESSION = "1200_7_0_20250101000000@callenabler.example.com";
const CALL = "01JORDER00000000000000000A";
const webhook = createHuaweiWebhook();

const status = (eventType: string, extra: Record<string, unknown> = {}) => ({
  eventType,
  statusInfo: { sessionId: SESSION, timestamp: "2025-01-01 00:00:05", userData: CALL, ...extra },
});
const fee = (extra: Record<string, unknown>) => ({
  eventType: "fee",
  feeLst: [{ sessionId: SESSION, userData: CALL, callEndTime: "2025-01-01 00:00:09", callOutAnswerTime: "", ...extra }],
});

let store: Store;
let now = 10;

beforeEach(async () => {
  store = createSqliteStore({ path: ":memory:", keyring: testKeyring() });
  await store.createCall({
    callId: CALL,
    provider: "huawei",
    phoneMasked: "+86*******1234",
    playTimes: 2,
    clientReference: "ref",
    metadata: {},
    idempotencyKey: "",
    requestHash: "h",
    nowMs: 1,
  });
  await store.recordSendResult(CALL, { kind: "accepted", providerCallId: SESSION, providerCode: "0", providerText: "Success" }, 2);
});
afterEach(async () => {
  await store.close();
});

async function push(...bodies: object[]): Promise<void> {
  for (const body of bodies) {
    const events = webhook.parse({ method: "POST", headers: {}, query: new URLSearchParams(), body: Buffer.from(JSON.stringify(body)) });
    await store.ingest("huawei", events, now++);
  }
}

const outcome = async () => {
  const call = await store.getCall(CALL);
  return [CallState[call?.state ?? 0], FailureReason[call?.failureReason ?? 0], call?.reasonProvisional];
};

describe("huawei disconnect and CDR, in a store", () => {
  it("a disconnect without stateCode fails the call at once, and the CDR's cause refines it", async () => {
    await push(status("callout"), status("disconnect"));
    expect(await outcome()).toEqual(["FAILED", "UNKNOWN", true]);
    await push(fee({ callOutUnaswRsn: 17 }));
    expect(await outcome()).toEqual(["FAILED", "BUSY", false]);
  });

  it("a CDR before the disconnect without stateCode stands", async () => {
    await push(fee({ callOutUnaswRsn: 17 }), status("disconnect"));
    expect(await outcome()).toEqual(["FAILED", "BUSY", false]);
  });

  it("a CDR that gives no cause either leaves the reason UNKNOWN", async () => {
    await push(status("disconnect"), fee({}));
    expect(await outcome()).toEqual(["FAILED", "UNKNOWN", true]);
  });

  it("a disconnect with its stateCode decides, and the CDR after it changes nothing", async () => {
    await push(status("disconnect", { stateCode: 8102 }), fee({ callOutUnaswRsn: 21 }));
    expect(await outcome()).toEqual(["FAILED", "BUSY", false]);
  });

  it("a hang-up cause refines a CDR that gave none", async () => {
    await push(fee({}), status("disconnect", { stateCode: 7108 }));
    expect(await outcome()).toEqual(["FAILED", "INSUFFICIENT_BALANCE", false]);
  });

  it("an answered call whose disconnect lacks stateCode ends COMPLETED once the CDR shows the answer", async () => {
    // The provisional FAILED gives way to the CDR's definitive end (docs/providers.md, Huawei).
    await push(status("answer"), status("disconnect"), fee({ callOutAnswerTime: "2025-01-01 00:00:06" }));
    expect(await outcome()).toEqual(["COMPLETED", "UNSPECIFIED", false]);
  });
});
