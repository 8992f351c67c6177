import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { CallState, GetCallResponseSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { createAuthenticator } from "../../src/auth/authenticator.js";
import { parseKeysFile } from "../../src/auth/keys.js";
import { runCli } from "../../src/cli/main.js";
import { capture } from "./capture.js";
import { type FakeServer, startFakeServer } from "./fake-server.js";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function run(argv: string[], env: Record<string, string> = {}) {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(argv, { stdout, stderr, env });
  return { code, stdout, stderr };
}

describe("voicecode keys new", () => {
  it("prints a fresh key once and a configuration line that authenticates exactly it", async () => {
    const r = await run(["keys", "new", "team-a", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.text()) as { tenant: string; key: string; hash: string; line: string };
    expect(out.key).toMatch(/^vck_[A-Za-z0-9_-]{43}$/);
    const parsed = parseKeysFile(`${out.line}\n`);
    expect(parsed.errors).toEqual([]);
    const auth = createAuthenticator({ entries: parsed.entries });
    expect(auth.authenticate(`Bearer ${out.key}`)).toBe("team-a");
    expect(auth.authenticate(`Bearer ${out.key}x`)).toBeUndefined();
    const again = JSON.parse((await run(["keys", "new", "team-a", "--json"])).stdout.text()) as { key: string };
    expect(again.key).not.toBe(out.key);
  });

  it("prints the key and the line for people", async () => {
    const r = await run(["keys", "new", "ops"]);
    expect(r.code).toBe(0);
    expect(r.stdout.text()).toMatch(/\n {2}vck_\S+\n/);
    expect(r.stdout.text()).toMatch(/\nops sha256:[0-9a-f]{64}\n/);
  });

  it("refuses a bad tenant name or a missing one with usage (exit 2)", async () => {
    expect((await run(["keys", "new", "Team A"])).code).toBe(2);
    expect((await run(["keys", "new"])).code).toBe(2);
    expect((await run(["keys", "rotate", "a"])).code).toBe(2);
  });
});

describe("--api-key / VOICECODE_API_KEY", () => {
  const getCall = (seen: Array<string | null>) => ({
    getCall: (_req: unknown, ctx: { requestHeader: Headers }) => {
      seen.push(ctx.requestHeader.get("authorization"));
      return create(GetCallResponseSchema, { call: { callId: "c1", state: CallState.ACCEPTED } });
    },
  });

  it("sends the key as a bearer token, the flag over the variable, nothing without either", async () => {
    const seen: Array<string | null> = [];
    server = await startFakeServer(getCall(seen));
    await run(["get", "c1", "--addr", server.addr, "--api-key", "vck_flag"], { VOICECODE_API_KEY: "vck_env" });
    await run(["get", "c1", "--addr", server.addr], { VOICECODE_API_KEY: "vck_env" });
    await run(["get", "c1", "--addr", server.addr]);
    expect(seen).toEqual(["Bearer vck_flag", "Bearer vck_env", null]);
  });
});
