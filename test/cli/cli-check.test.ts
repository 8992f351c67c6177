/** `voicecode check` and `send --generate`, against a scripted server. */
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import {
  CallState,
  CheckResponseSchema,
  CheckResult,
  SendResponseSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import { runCli } from "../../src/cli/main.js";
import { capture } from "./capture.js";
import { type FakeServer, startFakeServer } from "./fake-server.js";

const CALL_ID = "01JDXYZABCDEFGHJKMNPQRSTVW";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function run(argv: string[]) {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli([...argv, "--addr", server?.addr ?? ""], { stdout, stderr, env: {} });
  return { code, stdout, stderr };
}

describe("check", () => {
  it("prints APPROVED and exits 0; by call id", async () => {
    server = await startFakeServer({
      check: () => create(CheckResponseSchema, { result: CheckResult.APPROVED, callId: CALL_ID }),
    });
    const r = await run(["check", CALL_ID, "--code", "482913"]);
    expect(r.code).toBe(0);
    expect(r.stdout.lines()).toEqual([`APPROVED  ${CALL_ID}`]);
    expect(server.checks[0]?.target).toEqual({ case: "callId", value: CALL_ID });
    expect(server.checks[0]?.code).toBe("482913");
  });

  it("prints WRONG_CODE with the attempts left and exits 3; by --ref, as JSON", async () => {
    server = await startFakeServer({
      check: () => create(CheckResponseSchema, { result: CheckResult.WRONG_CODE, attemptsLeft: 3, callId: CALL_ID }),
    });
    const plain = await run(["check", "--ref", "login-7", "--code", "000000"]);
    expect(plain.code).toBe(3);
    expect(plain.stdout.lines()).toEqual([`WRONG_CODE (3 attempts left)  ${CALL_ID}`]);
    expect(server.checks[0]?.target).toEqual({ case: "clientReference", value: "login-7" });
    const json = await run(["check", "--ref", "login-7", "--code", "000000", "--json"]);
    expect(JSON.parse(json.stdout.text())).toEqual({
      result: "CHECK_RESULT_WRONG_CODE",
      attemptsLeft: 3,
      callId: CALL_ID,
    });
  });

  it.each([[["check", "--code", "1234"]], [["check", CALL_ID]], [["check", CALL_ID, "--ref", "x", "--code", "1"]]])(
    "%j is a usage error (exit 2)",
    async (argv) => {
      server = await startFakeServer({});
      expect((await run(argv)).code).toBe(2);
    },
  );
});

describe("send --generate", () => {
  it("asks the server for a generated code and never sends one", async () => {
    server = await startFakeServer({
      send: () => create(SendResponseSchema, { callId: CALL_ID, provider: "sandbox", state: CallState.ACCEPTED }),
    });
    const r = await run(["send", "--to", "+8613711112222", "--generate", "--code-length", "8", "--code-ttl", "300", "--ref", "r"]);
    expect(r.code).toBe(0);
    expect(server.sends[0]).toMatchObject({ code: "", generateCode: true, codeLength: 8, codeTtlSeconds: 300 });
  });

  it("--check keeps the caller's code checkable; --code with --generate is a usage error", async () => {
    server = await startFakeServer({
      send: () => create(SendResponseSchema, { callId: CALL_ID, provider: "sandbox", state: CallState.ACCEPTED }),
    });
    await run(["send", "--to", "+8613711112222", "--code", "4815", "--check"]);
    expect(server.sends[0]).toMatchObject({ code: "4815", enableCheck: true, generateCode: false });
    expect((await run(["send", "--to", "+8613711112222", "--code", "4815", "--generate"])).code).toBe(2);
  });
});
