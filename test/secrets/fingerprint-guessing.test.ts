/**
 * A stolen database must not give the codes back. The request fingerprint covers the code,
 * and a code has few digits: with the row in hand (masked number, provider, reference,
 * metadata, play times) and the full number known to the attacker, an unkeyed digest is
 * reversed by trying every code. Keyed under the server secret, it is not.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { SendRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { createLocalBus } from "../../src/bus/bus.js";
import type { Provider } from "../../src/core/provider.js";
import { createProviderRegistry } from "../../src/core/providers.js";
import { createVoiceCodeService } from "../../src/core/service.js";
import { createKeyring, type Keyring } from "../../src/secrets/keyring.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { legacyFingerprintInput } from "../support/scan-storage.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-guess-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const accepting: Provider = {
  name: "sandbox",
  send: async ({ callId }) => ({ kind: "accepted", providerCallId: `pc-${callId}`, providerCode: "0", providerText: "" }),
  webhook: {
    parse: () => [],
    ack: () => ({ status: 200, headers: {}, body: "" }),
    retryLater: () => ({ status: 503, headers: {}, body: "" }),
  },
};

/** Everything the attacker knows about the request but the code. */
const KNOWN = {
  phone: "+8613711112222",
  playTimes: 2,
  provider: "sandbox",
  clientReference: "login-7",
  metadata: { purpose: "login", tenant: "t1" },
};
const CODE = "4821";

/** Sends KNOWN + CODE through the real service and store, and reads the row's fingerprint. */
async function storedFingerprint(keyring: Keyring): Promise<string> {
  const file = path.join(fs.mkdtempSync(path.join(dir, "db-")), "voicecode.db");
  const store = createSqliteStore({ path: file, keyring });
  const service = createVoiceCodeService({
    store,
    bus: createLocalBus(),
    providers: createProviderRegistry([accepting], "sandbox"),
    keyring,
    logger: pino({ level: "silent" }),
  });
  const sent = await service.send(
    create(SendRequestSchema, {
      phoneNumber: KNOWN.phone,
      code: CODE,
      playTimes: KNOWN.playTimes,
      clientReference: KNOWN.clientReference,
      idempotencyKey: "idem-1",
      metadata: KNOWN.metadata,
    }),
    new AbortController().signal,
    { tenant: "default" },
  );
  await store.close();
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare<[string], { request_hash: string }>("SELECT request_hash FROM calls WHERE call_id = ?").get(sent.callId);
    if (row === undefined) throw new Error("call not stored");
    return row.request_hash;
  } finally {
    db.close();
  }
}

const everyCode = (): string[] => Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, "0"));
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
const inputFor = (code: string): string => legacyFingerprintInput({ ...KNOWN, code });

/** The codes whose guessed fingerprint equals `stored`, under `guess`. */
function codesMatching(stored: string, guess: (code: string) => string): string[] {
  return everyCode().filter((code) => guess(code) === stored);
}

describe("stored request fingerprints cannot be reversed without the server secret", () => {
  it("no code out of 10^4 matches an unkeyed digest, nor a digest keyed under another secret", async () => {
    const keyring = createKeyring(randomBytes(32));
    const stored = await storedFingerprint(keyring);

    // Unkeyed, as the old scheme stored it, with or without the version prefix.
    expect(codesMatching(stored, (c) => sha256(inputFor(c)))).toEqual([]);
    expect(codesMatching(stored, (c) => `k1:${sha256(inputFor(c))}`)).toEqual([]);
    expect(codesMatching(stored.replace(/^k1:/, ""), (c) => sha256(inputFor(c)))).toEqual([]);
    // Keyed, but under a secret that is not the server's.
    const other = createKeyring(randomBytes(32));
    expect(codesMatching(stored, (c) => other.hash("request-fingerprint", sha256(inputFor(c))))).toEqual([]);

    // The search itself is sound: with the secret, exactly the code that was sent matches.
    expect(codesMatching(stored, (c) => keyring.hash("request-fingerprint", sha256(inputFor(c))))).toEqual([CODE]);
  });

  it("while the same search reverses a fingerprint stored the old way", () => {
    const legacy = sha256(inputFor(CODE));
    expect(codesMatching(legacy, (c) => sha256(inputFor(c)))).toEqual([CODE]);
  });
});
