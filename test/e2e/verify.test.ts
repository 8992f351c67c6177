/**
 * Verification through the real server, on the gRPC port (grpc-js) and the Connect port
 * (Connect JSON over HTTP/1.1): every Check outcome, expiry on an injected clock, a
 * re-send superseding the older code (and a refused re-send superseding nothing), the
 * caller's own code with and without enable_check, the verification event on watches,
 * and the generated code absent from the logs, the SQLite file and the PostgreSQL tables.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CallState,
  CheckResult,
  VerificationState,
  type WatchStatusResponse,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import { hashApiKey, newApiKey } from "../../src/auth/keys.js";
import { createLogger } from "../../src/logger.js";
import { startServer } from "../../src/server.js";
import { defaultCodeGenerator } from "../../src/verify/code.js";
import {
  type TestClient,
  connectProtocolClient,
  failureOf,
  grpcJsClient,
} from "../support/clients.js";
import { createTestDatabase, describePostgres } from "../support/postgres.js";
import { dumpPostgres, dumpSqlite, findLeaks, rawSqliteFiles } from "../support/scan-storage.js";
import { type Carrier, type TestServer, createCarrier, startTestServer, testConfig } from "../support/test-server.js";

const T0 = 1_800_000_000_000;

/** Reads a watch to its end, or until `limit` messages. */
async function collect(stream: AsyncIterable<WatchStatusResponse>, limit = Number.POSITIVE_INFINITY) {
  const out: WatchStatusResponse[] = [];
  for await (const message of stream) {
    out.push(message);
    if (out.length >= limit) break;
  }
  return out;
}

/** A server whose generated codes the test hears (as the person on the phone would). */
interface Fixture {
  server: TestServer;
  carrier: Carrier;
  clock: { now: number };
  spoken: string[];
}

function useVerifyServer(env: Record<string, string> = {}): Fixture {
  const fixture = { clock: { now: T0 }, spoken: [] as string[] } as Fixture;
  beforeAll(async () => {
    fixture.carrier = createCarrier();
    fixture.server = await startTestServer(fixture.carrier, env, {
      now: () => fixture.clock.now,
      generateCode: (length) => {
        const code = defaultCodeGenerator(length);
        fixture.spoken.push(code);
        return code;
      },
    });
  });
  afterAll(async () => {
    await fixture.server.stop();
    fixture.carrier.network.close();
  });
  return fixture;
}

/** A wrong code of the same length: every digit shifted. */
const wrong = (code: string): string => [...code].map((d) => String((Number(d) + 1) % 10)).join("");

const clients: Array<[string, (s: TestServer) => TestClient]> = [
  ["gRPC port (grpc-js)", (s) => grpcJsClient(s.grpcUrl)],
  ["Connect port (Connect JSON)", (s) => connectProtocolClient(s.apiUrl)],
];

describe.each(clients)("verification through the %s", (_name, makeClient) => {
  const f = useVerifyServer();
  let client: TestClient;
  let n = 0;
  beforeAll(() => {
    client = makeClient(f.server);
  });
  afterAll(() => client.close());

  /** A Send with a generated code to a fresh number; returns the call id and what was spoken. */
  const sendGenerated = async (ref: string, extra: { codeLength?: number; codeTtlSeconds?: number } = {}) => {
    n += 1;
    const sent = await client.send({
      phoneNumber: `+86137${String(20_001_000 + n).padStart(8, "0")}`,
      generateCode: true,
      clientReference: ref,
      ...extra,
    });
    const code = f.spoken.at(-1) ?? "";
    return { sent, code };
  };

  it("answers each outcome: WRONG_CODE with attempts left, APPROVED, ALREADY_APPROVED, NOT_FOUND", async () => {
    const { sent, code } = await sendGenerated("login-a");
    expect(code).toMatch(/^[0-9]{6}$/);
    expect(sent.state).toBe(CallState.ACCEPTED);
    expect(sent.codeExpireTime === undefined ? 0 : timestampMs(sent.codeExpireTime)).toBe(f.clock.now + 600_000);
    const callId = sent.callId;
    expect(await client.check({ target: { case: "callId", value: callId }, code: wrong(code) })).toMatchObject({
      result: CheckResult.WRONG_CODE,
      attemptsLeft: 4,
      callId,
    });
    expect(await client.check({ target: { case: "callId", value: callId }, code })).toMatchObject({
      result: CheckResult.APPROVED,
      callId,
    });
    expect((await client.check({ target: { case: "callId", value: callId }, code })).result).toBe(
      CheckResult.ALREADY_APPROVED,
    );
    const unknown = await client.check({ target: { case: "clientReference", value: "never-sent" }, code: "1234" });
    expect(unknown).toMatchObject({ result: CheckResult.NOT_FOUND, callId: "" });
  });

  it("answers TOO_MANY_ATTEMPTS once the budget of 5 is spent, even for the right code", async () => {
    const { sent, code } = await sendGenerated("login-b", { codeLength: 8 });
    expect(code).toMatch(/^[0-9]{8}$/);
    const target = { case: "callId" as const, value: sent.callId };
    const left: number[] = [];
    for (let i = 0; i < 5; i++) left.push((await client.check({ target, code: wrong(code) })).attemptsLeft);
    expect(left).toEqual([4, 3, 2, 1, 0]);
    expect((await client.check({ target, code })).result).toBe(CheckResult.TOO_MANY_ATTEMPTS);
  });

  it("answers EXPIRED once the code's time to live has passed (injected clock)", async () => {
    const { sent, code } = await sendGenerated("login-c", { codeTtlSeconds: 60 });
    const target = { case: "callId" as const, value: sent.callId };
    f.clock.now += 60_000;
    try {
      expect(await client.check({ target, code })).toMatchObject({ result: CheckResult.EXPIRED, attemptsLeft: 0 });
    } finally {
      f.clock.now -= 60_000;
    }
    // Expired stays expired, whatever the clock says later.
    expect((await client.check({ target, code })).result).toBe(CheckResult.EXPIRED);
  });

  it("a re-send for the same client_reference makes the older code stop working", async () => {
    const first = await sendGenerated("login-d");
    const second = await sendGenerated("login-d");
    const byRef = { case: "clientReference" as const, value: "login-d" };
    if (first.code !== second.code) {
      expect(await client.check({ target: byRef, code: first.code })).toMatchObject({
        result: CheckResult.WRONG_CODE,
        callId: second.sent.callId,
      });
    }
    expect((await client.check({ target: { case: "callId", value: first.sent.callId }, code: first.code })).result).toBe(
      CheckResult.EXPIRED,
    );
    expect(await client.check({ target: byRef, code: second.code })).toMatchObject({
      result: CheckResult.APPROVED,
      callId: second.sent.callId,
    });
  });

  it("checks the caller's own code only with enable_check", async () => {
    const own = await client.send({ phoneNumber: "+8613711113001", code: "4815", enableCheck: true, clientReference: "own" });
    expect((await client.check({ target: { case: "callId", value: own.callId }, code: "4815" })).result).toBe(
      CheckResult.APPROVED,
    );
    const plain = await client.send({ phoneNumber: "+8613711113002", code: "4815", clientReference: "plain" });
    expect(plain.codeExpireTime).toBeUndefined();
    expect((await client.check({ target: { case: "callId", value: plain.callId }, code: "4815" })).result).toBe(
      CheckResult.NOT_FOUND,
    );
  });

  it("refuses contradictory or malformed requests with the field named first", async () => {
    const cases: Array<[Promise<unknown>, string]> = [
      [client.send({ phoneNumber: "+8613711113003" }), "code: is required"],
      [client.send({ phoneNumber: "+8613711113003", code: "1234", generateCode: true }), "code: must be empty with generate_code"],
      [client.send({ phoneNumber: "+8613711113003", generateCode: true, codeLength: 3 }), "code_length: must be 4 to 8"],
      [client.send({ phoneNumber: "+8613711113003", code: "1234", codeLength: 6 }), "code_length: only with generate_code"],
      [client.send({ phoneNumber: "+8613711113003", generateCode: true, codeTtlSeconds: 59 }), "code_ttl_seconds: must be 60 to 3600"],
      [client.send({ phoneNumber: "+8613711113003", code: "12", enableCheck: true }), "code: must be 4 to 8 digits with enable_check"],
      [client.check({ code: "1234" }), "target: set call_id or client_reference"],
      [client.check({ target: { case: "callId", value: "x" } }), "code: is required"],
      [client.check({ target: { case: "callId", value: "x" }, code: "12a4" }), "code: must be 1 to 8 digits 0-9"],
    ];
    for (const [call, message] of cases) {
      expect(await failureOf(call)).toEqual({ code: "invalid_argument", message });
    }
  });

  it("a Check is a status event: a reference watch sees VERIFIED after COMPLETED; a resumed call watch too", async () => {
    const { sent, code } = await sendGenerated("login-e");
    const live = collect(client.watch({ target: { case: "clientReference", value: "login-e" } }), 6);
    await f.carrier.scheduler.runAll();
    // The call watch ends on COMPLETED, before the person types the code.
    const callWatch = await collect(client.watch({ target: { case: "callId", value: sent.callId } }));
    expect(callWatch.at(-1)?.event?.state).toBe(CallState.COMPLETED);
    expect(callWatch.at(-1)?.event?.terminal).toBe(true);
    await client.check({ target: { case: "callId", value: sent.callId }, code });
    const events = (await live).map((m) => m.event);
    expect(events.map((e) => [e?.state, e?.verification])).toEqual([
      [CallState.ACCEPTED, VerificationState.UNSPECIFIED],
      [CallState.DIALING, VerificationState.UNSPECIFIED],
      [CallState.RINGING, VerificationState.UNSPECIFIED],
      [CallState.ANSWERED, VerificationState.UNSPECIFIED],
      [CallState.COMPLETED, VerificationState.UNSPECIFIED],
      [CallState.COMPLETED, VerificationState.VERIFIED],
    ]);
    expect(events.at(-1)?.terminal).toBe(false);
    // Resumed after the terminal event: the verification event, then the watch ends.
    const resumed = await collect(
      client.watch({ target: { case: "callId", value: sent.callId }, afterSequence: callWatch.at(-1)?.event?.sequence ?? 0n }),
    );
    expect(resumed.map((m) => m.event?.verification)).toEqual([VerificationState.VERIFIED]);
    const call = await client.getCall(sent.callId);
    expect(call.call?.state).toBe(CallState.COMPLETED);
    expect(call.events.at(-1)?.verification).toBe(VerificationState.VERIFIED);
  });
});

describe("verification under the per-number limits", () => {
  const f = useVerifyServer({ VOICECODE_NUMBER_LIMITS: "1/1m" });

  it("a re-send over the limit is refused and the older code keeps working", async () => {
    const client = grpcJsClient(f.server.grpcUrl);
    try {
      const first = await client.send({ phoneNumber: "+8613711114444", generateCode: true, clientReference: "limited" });
      const code = f.spoken.at(-1) ?? "";
      const refused = await failureOf(
        client.send({ phoneNumber: "+8613711114444", generateCode: true, clientReference: "limited" }),
      );
      expect(refused.code).toBe("resource_exhausted");
      expect(await client.check({ target: { case: "clientReference", value: "limited" }, code })).toMatchObject({
        result: CheckResult.APPROVED,
        callId: first.callId,
      });
    } finally {
      client.close();
    }
  });
});

describe("verification across tenants", () => {
  const keyA = newApiKey();
  const keyB = newApiKey();
  const f = useVerifyServer({ VOICECODE_API_KEYS: `team-a=${hashApiKey(keyA)},team-b=${hashApiKey(keyB)}` });

  it("another tenant's Check is NOT_FOUND, by call id or reference, and spends nothing", async () => {
    const a = grpcJsClient(f.server.grpcUrl, keyA);
    const b = connectProtocolClient(f.server.apiUrl, "1.1", keyB);
    try {
      const sent = await a.send({ phoneNumber: "+8613711115555", generateCode: true, clientReference: "shared-ref" });
      const code = f.spoken.at(-1) ?? "";
      for (let i = 0; i < 6; i++) {
        expect(await b.check({ target: { case: "callId", value: sent.callId }, code: wrong(code) })).toMatchObject({
          result: CheckResult.NOT_FOUND,
          callId: "",
        });
        expect((await b.check({ target: { case: "clientReference", value: "shared-ref" }, code })).result).toBe(
          CheckResult.NOT_FOUND,
        );
      }
      expect((await a.check({ target: { case: "callId", value: sent.callId }, code })).result).toBe(CheckResult.APPROVED);
    } finally {
      a.close();
      b.close();
    }
  });
});

/** Sends, checks (wrong, right, expired, re-sent) and lets the calls complete. */
async function exercise(client: TestClient, carrier: Carrier, spoken: string[]): Promise<void> {
  const a = await client.send({ phoneNumber: "+8613911225566", generateCode: true, clientReference: "scan-1" });
  const codeA = spoken.at(-1) ?? "";
  await client.check({ target: { case: "callId", value: a.callId }, code: wrong(codeA) });
  await client.check({ target: { case: "callId", value: a.callId }, code: codeA });
  await client.send({ phoneNumber: "+8613911225567", generateCode: true, clientReference: "scan-2", codeLength: 8 });
  await client.send({ phoneNumber: "+8613911225568", generateCode: true, clientReference: "scan-2" });
  await client.send({ phoneNumber: "+8613911225569", code: "730164", enableCheck: true, clientReference: "scan-3" });
  await carrier.scheduler.runAll();
  await client.check({ target: { case: "clientReference", value: "scan-2" }, code: wrong(spoken.at(-1) ?? "") });
}

describe("the generated code is kept nowhere", () => {
  const dir = mkdtempSync(join(tmpdir(), "voicecode-verify-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (env: Record<string, string>): Promise<{ spoken: string[]; logs: string }> => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    const spoken: string[] = [];
    const carrier = createCarrier();
    const server = await startServer({
      config: testConfig(env),
      logger: createLogger("trace", sink),
      sandboxNetwork: carrier.network,
      generateCode: (length) => {
        const code = defaultCodeGenerator(length);
        spoken.push(code);
        return code;
      },
    });
    carrier.target = server.sandboxCallbackUrl;
    const client = grpcJsClient(`http://127.0.0.1:${server.grpcPort}`);
    try {
      await exercise(client, carrier, spoken);
    } finally {
      client.close();
      await server.stop();
      carrier.network.close();
    }
    expect(spoken).toHaveLength(3);
    return { spoken: [...spoken, "730164"], logs: lines.join("") };
  };

  const expectCleanLogs = (logs: string, codes: readonly string[]): void => {
    expect(logs).toContain('"result":"APPROVED"');
    for (const code of codes) expect(logs).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`));
  };

  it("SQLite: not in the logs, any column, or any byte of the database files", async () => {
    const file = join(dir, "voicecode.db");
    const { spoken, logs } = await run({ VOICECODE_DB_PATH: file });
    expectCleanLogs(logs, spoken);
    const values = dumpSqlite(file);
    expect(values.some((v) => v.table === "verifications")).toBe(true);
    expect(findLeaks([...values, ...rawSqliteFiles(file)], { codes: spoken })).toEqual([]);
  });

  it("SQLite on its own thread (VOICECODE_SQLITE_THREAD): the same, Check compared across the thread", async () => {
    const file = join(dir, "threaded.db");
    const { spoken, logs } = await run({ VOICECODE_DB_PATH: file, VOICECODE_SQLITE_THREAD: "true" });
    expect(logs).toContain(`"db":${JSON.stringify(`${file} (own thread)`)}`);
    expectCleanLogs(logs, spoken);
    const values = dumpSqlite(file);
    expect(values.some((v) => v.table === "verifications")).toBe(true);
    expect(findLeaks([...values, ...rawSqliteFiles(file)], { codes: spoken })).toEqual([]);
  });

  describePostgres("PostgreSQL", () => {
    it("not in the logs or any column of any table", async () => {
      const db = await createTestDatabase();
      try {
        const { spoken, logs } = await run({
          DATABASE_URL: db.url,
          VOICECODE_SERVER_SECRET: "verify-test-secret-0123456789abcdef0123456789",
        });
        expectCleanLogs(logs, spoken);
        const values = await dumpPostgres(db.url);
        expect(values.some((v) => v.table === "public.verifications")).toBe(true);
        expect(findLeaks(values, { codes: spoken })).toEqual([]);
      } finally {
        await db.drop();
      }
    });
  });
});
