/**
 * Request fingerprints stored before they were keyed (a bare SHA-256 hex) must keep
 * working after the upgrade: the store keys them when it opens, so the retry of a Send
 * made before the upgrade is still recognised. Shared by both engines; each engine
 * provides how to write a row the way the old build did (raw SQL on the old schema).
 */
import { createHash, randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SendRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { createLocalBus } from "../../src/bus/bus.js";
import { VoiceCodeError } from "../../src/core/errors.js";
import { CallState } from "../../src/core/model.js";
import type { Provider } from "../../src/core/provider.js";
import { createProviderRegistry } from "../../src/core/providers.js";
import { createVoiceCodeService } from "../../src/core/service.js";
import { createKeyring, type Keyring } from "../../src/secrets/keyring.js";
import type { Store } from "../../src/store/store.js";
import { legacyFingerprintInput } from "../support/scan-storage.js";

/** A calls row as the pre-keyring build wrote it. */
export interface LegacyRow {
  readonly callId: string;
  readonly provider: string;
  readonly idempotencyKey: string;
  readonly requestHash: string;
  readonly clientReference: string;
  readonly playTimes: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly state: CallState;
}

export interface LegacyEngine {
  /** Creates the database at the schema of the last pre-keyring build. */
  createOld(): Promise<void>;
  /** Inserts rows with raw SQL (whether or not a store has the database open). */
  writeRaw(rows: readonly LegacyRow[]): Promise<void>;
  open(keyring: Keyring): Promise<Store>;
  /** The stored request_hash of each call, by raw SQL. */
  readHashes(callIds: readonly string[]): Promise<Map<string, string>>;
  /** Rows per batch of the store's re-keying. */
  readonly batchSize: number;
}

const PROVIDER = "keeper";
const PHONE = "+8613711112222";

/** The fingerprint exactly as the pre-keyring build computed it (src/core/send.ts then). */
function legacyFingerprint(
  phone: string,
  code: string,
  playTimes: number,
  provider: string,
  clientReference: string,
  metadata: Readonly<Record<string, string>>,
): string {
  const input = legacyFingerprintInput({ phone, code, playTimes, provider, clientReference, metadata });
  return createHash("sha256").update(input).digest("hex");
}

function legacyRow(n: string, code = "4821", overrides: Partial<LegacyRow> = {}): LegacyRow {
  const base = {
    callId: `legacy-${n}`,
    provider: PROVIDER,
    idempotencyKey: `idem-${n}`,
    clientReference: `order-${n}`,
    playTimes: 2,
    metadata: { tenant: "t1", purpose: "login" },
    state: CallState.ACCEPTED,
    ...overrides,
  };
  return {
    ...base,
    requestHash:
      overrides.requestHash ??
      legacyFingerprint(PHONE, code, base.playTimes, base.provider, base.clientReference, base.metadata),
  };
}

/** A provider that accepts everything; only replays and conflicts matter here. */
const keeper: Provider = {
  name: PROVIDER,
  send: async ({ callId }) => ({ kind: "accepted", providerCallId: `pc-${callId}`, providerCode: "0", providerText: "" }),
  webhook: {
    parse: () => [],
    ack: () => ({ status: 200, headers: {}, body: "" }),
    retryLater: () => ({ status: 503, headers: {}, body: "" }),
  },
};

/**
 * `concurrentWriters`: whether another process can write while a store is open (PostgreSQL
 * replicas; not SQLite, whose file one process owns).
 */
export function describeLegacyFingerprints(
  name: string,
  engine: () => LegacyEngine,
  { concurrentWriters }: { readonly concurrentWriters: boolean },
): void {
  describe(`legacy request fingerprints: ${name}`, () => {
    const stores: Store[] = [];
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
    });
    const open = async (e: LegacyEngine, keyring: Keyring): Promise<Store> => {
      const store = await e.open(keyring);
      stores.push(store);
      return store;
    };
    const serviceOn = (store: Store, keyring: Keyring) =>
      createVoiceCodeService({
        store,
        bus: createLocalBus(),
        providers: createProviderRegistry([keeper], PROVIDER),
        keyring,
        logger: pino({ level: "silent" }),
      });
    const retryOf = (row: LegacyRow, code: string) =>
      create(SendRequestSchema, {
        phoneNumber: PHONE,
        code,
        playTimes: row.playTimes,
        clientReference: row.clientReference,
        idempotencyKey: row.idempotencyKey,
        metadata: { ...row.metadata },
      });

    it("keys them at open: the retry of a pre-upgrade Send is a replay, another code ALREADY_EXISTS", async () => {
      const e = engine();
      await e.createOld();
      const row = legacyRow("a", "4821");
      const untouched = legacyRow("b", "1111", { idempotencyKey: "", requestHash: "" });
      await e.writeRaw([row, untouched]);

      const keyring = createKeyring(randomBytes(32));
      await (await open(e, keyring)).close();
      // Read with the store closed: an SQLite file belongs to the process that has it open.
      const hashes = await e.readHashes([row.callId, untouched.callId]);
      expect(hashes.get(row.callId)).toBe(keyring.hash("request-fingerprint", row.requestHash));
      expect(hashes.get(untouched.callId)).toBe("");

      const service = serviceOn(await open(e, keyring), keyring);
      const replay = await service.send(retryOf(row, "4821"), new AbortController().signal, { tenant: "default" });
      expect(replay).toMatchObject({ callId: row.callId, idempotentReplay: true });
      const conflict = await service
        .send(retryOf(row, "4822"), new AbortController().signal, { tenant: "default" })
        .then(() => undefined, (err: unknown) => err);
      expect(conflict).toBeInstanceOf(VoiceCodeError);
      expect((conflict as VoiceCodeError).code).toBe("ALREADY_EXISTS");
    });

    it("re-keys nothing on the next open, and keys every row when there are several batches", async () => {
      const e = engine();
      await e.createOld();
      const rows = Array.from({ length: e.batchSize * 2 + 3 }, (_, i) => legacyRow(`m${i}`, String(1000 + i)));
      await e.writeRaw(rows);
      const keyring = createKeyring(randomBytes(32));
      const ids = rows.map((r) => r.callId);

      await (await open(e, keyring)).close();
      const first = await e.readHashes(ids);
      for (const row of rows) {
        expect(first.get(row.callId)).toBe(keyring.hash("request-fingerprint", row.requestHash));
      }
      await (await open(e, keyring)).close();
      expect(await e.readHashes(ids)).toEqual(first);
    });

    // Only where another process can write while the store is open.
    if (concurrentWriters) {
      it("still recognises a legacy row written after open (an old replica during a rolling upgrade)", async () => {
        const e = engine();
        await e.createOld();
        const keyring = createKeyring(randomBytes(32));
        const store = await open(e, keyring);
        const row = legacyRow("late", "5150");
        await e.writeRaw([row]);
        const service = serviceOn(store, keyring);
        const replay = await service.send(retryOf(row, "5150"), new AbortController().signal, { tenant: "default" });
        expect(replay).toMatchObject({ callId: row.callId, idempotentReplay: true });
        const conflict = await service
          .send(retryOf(row, "5151"), new AbortController().signal, { tenant: "default" })
          .then(() => undefined, (err: unknown) => err);
        expect((conflict as VoiceCodeError).code).toBe("ALREADY_EXISTS");
      });
    }
  });
}
