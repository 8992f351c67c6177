import type { Keyring } from "../../src/secrets/keyring.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import type { NewVerification } from "../../src/store/verifications.js";
import { testKeyring } from "./keyring.js";

/**
 * An in-memory SQLite store holding one call, `callId`, already accepted by provider
 * "p" (provider call id "pc"): what the watch tests open their watches on.
 */
export async function storeWithAcceptedCall(
  callId: string,
  options: { readonly keyring?: Keyring; readonly verification?: NewVerification } = {},
): Promise<Store> {
  const store = createSqliteStore({ path: ":memory:", keyring: options.keyring ?? testKeyring() });
  await store.createCall({
    callId,
    provider: "p",
    phoneMasked: "+86*******2222",
    playTimes: 2,
    clientReference: "r",
    metadata: {},
    idempotencyKey: "",
    requestHash: "h",
    nowMs: Date.now(),
    ...(options.verification === undefined ? {} : { verification: options.verification }),
  });
  await store.recordSendResult(callId, { kind: "accepted", providerCallId: "pc", providerCode: "0", providerText: "" }, Date.now());
  return store;
}
