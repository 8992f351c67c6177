import { create, fromJsonString } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import {
  CallSchema,
  CallState,
  FailureReason,
  GetCallResponseSchema,
  SendResponseSchema,
  type StatusEvent,
  StatusEventSchema,
  VoiceCode,
  WatchStatusResponseSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApiServer } from "../../src/api/http-server.js";
import { createHealth } from "../../src/api/health.js";
import { runCli } from "../../src/cli/main.js";
import { type Capture, capture } from "./capture.js";
import { type FakeServer, startFakeServer } from "./fake-server.js";

const CALL_ID = "01JDXYZABCDEFGHJKMNPQRSTVW";
const CODE = "739164";
const T0 = Date.UTC(2026, 10, 25, 20, 31, 0);

type EventExtra = Partial<Pick<StatusEvent, "failureReason" | "providerCode" | "providerText">>;

function event(sequence: number, state: CallState, extra: EventExtra = {}): StatusEvent {
  return create(StatusEventSchema, {
    sequence: BigInt(sequence),
    callId: CALL_ID,
    clientReference: "order-7",
    state,
    terminal: state === CallState.COMPLETED || state === CallState.FAILED,
    provider: "sandbox",
    providerCallId: "sbx_42",
    recordTime: timestampFromMs(T0 + sequence * 1000),
    ...extra,
  });
}

const HISTORY = [
  event(10, CallState.ACCEPTED),
  event(12, CallState.RINGING),
  event(14, CallState.FAILED, { failureReason: FailureReason.BUSY, providerCode: "486", providerText: "Busy Here" }),
];

const accepted = create(SendResponseSchema, {
  callId: CALL_ID,
  provider: "sandbox",
  providerCallId: "sbx_42",
  state: CallState.ACCEPTED,
});

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Run {
  code: number;
  stdout: Capture;
  stderr: Capture;
}

async function run(argv: string[], opts: { signal?: AbortSignal; stdout?: Capture; env?: Record<string, string> } = {}): Promise<Run> {
  const stdout = opts.stdout ?? capture();
  const stderr = capture();
  const code = await runCli(argv, { stdout, stderr, env: opts.env ?? {}, signal: opts.signal });
  return { code, stdout, stderr };
}

function addrArgs(): string[] {
  if (server === undefined) throw new Error("server not started");
  return ["--addr", server.addr];
}

describe("send", () => {
  it("prints the call id and state, never the code", async () => {
    server = await startFakeServer({ send: () => accepted });
    const r = await run(["send", "--to", "+8613711112222", "--code", CODE, ...addrArgs()]);
    expect(r.code).toBe(0);
    expect(r.stdout.lines()).toEqual([`call ${CALL_ID} via sandbox (provider id sbx_42) ACCEPTED`]);
    expect(r.stderr.text()).toBe("");
    expect(r.stdout.text() + r.stderr.text()).not.toContain(CODE);
  });

  it("passes every flag through to the request", async () => {
    server = await startFakeServer({ send: () => accepted });
    const r = await run([
      ...addrArgs(),
      "send",
      "--to=+8613711112222",
      "--code",
      CODE,
      "--play-times",
      "3",
      "--provider",
      "aliyun",
      "--ref",
      "order-7",
      "--idempotency-key",
      "k-1",
      "--meta",
      "tenant=acme",
      "--meta",
      "note=a=b",
    ]);
    expect(r.code).toBe(0);
    expect(server.sends).toHaveLength(1);
    const req = server.sends[0];
    expect(req?.phoneNumber).toBe("+8613711112222");
    expect(req?.code).toBe(CODE);
    expect(req?.playTimes).toBe(3);
    expect(req?.provider).toBe("aliyun");
    expect(req?.clientReference).toBe("order-7");
    expect(req?.idempotencyKey).toBe("k-1");
    expect(req?.metadata).toEqual({ tenant: "acme", note: "a=b" });
  });

  it("leaves play_times 0 (the server default) when not given", async () => {
    server = await startFakeServer({ send: () => accepted });
    await run(["send", "--to", "+8613711112222", "--code", CODE, ...addrArgs()]);
    expect(server.sends[0]?.playTimes).toBe(0);
  });

  it("prints protobuf JSON with --json", async () => {
    server = await startFakeServer({ send: () => ({ ...accepted, idempotentReplay: true }) });
    const r = await run(["send", "--json", "--to", "+8613711112222", "--code", CODE, ...addrArgs()]);
    expect(r.code).toBe(0);
    const lines = r.stdout.lines();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ callId: CALL_ID, state: "CALL_STATE_ACCEPTED", idempotentReplay: true });
    expect(fromJsonString(SendResponseSchema, lines[0] ?? "").callId).toBe(CALL_ID);
    expect(r.stdout.text()).not.toContain(CODE);
  });

  it("shows the failure reason when the provider refused", async () => {
    server = await startFakeServer({
      send: () => ({ ...accepted, providerCallId: "", state: CallState.FAILED, failureReason: FailureReason.INSUFFICIENT_BALANCE }),
    });
    const r = await run(["send", "--to", "+8613711112222", "--code", CODE, ...addrArgs()]);
    expect(r.stdout.lines()).toEqual([`call ${CALL_ID} via sandbox FAILED (INSUFFICIENT_BALANCE)`]);
  });

  it("--watch follows the new call until its terminal event", async () => {
    server = await startFakeServer({
      send: () => accepted,
      async *watchStatus() {
        for (const ev of HISTORY) yield create(WatchStatusResponseSchema, { event: ev });
      },
    });
    const r = await run(["send", "--to", "+8613711112222", "--code", CODE, "--watch", ...addrArgs()]);
    expect(r.code).toBe(3);
    expect(r.stdout.lines()).toEqual([
      `call ${CALL_ID} via sandbox (provider id sbx_42) ACCEPTED`,
      "#10  2026-11-25T20:31:10Z  ACCEPTED",
      "#12  2026-11-25T20:31:12Z  RINGING",
      '#14  2026-11-25T20:31:14Z  FAILED (BUSY)  provider code 486 "Busy Here"',
    ]);
    expect(server.watches[0]?.target).toEqual({ case: "callId", value: CALL_ID });
    expect(r.stdout.text()).not.toContain(CODE);
  });

  it("--watch exits 0 when the call completes", async () => {
    server = await startFakeServer({
      send: () => accepted,
      async *watchStatus() {
        yield { event: event(10, CallState.ACCEPTED) };
        yield { event: event(11, CallState.COMPLETED) };
      },
    });
    const r = await run(["send", "--to", "+8613711112222", "--code", CODE, "--watch", ...addrArgs()]);
    expect(r.code).toBe(0);
  });

  it("without --watch, exits 3 when the provider refused and 4 when its answer was lost", async () => {
    server = await startFakeServer({
      send: (req) =>
        req.phoneNumber.endsWith("0008")
          ? { ...accepted, providerCallId: "", state: CallState.FAILED, failureReason: FailureReason.INSUFFICIENT_BALANCE }
          : { ...accepted, providerCallId: "", state: CallState.PENDING },
    });
    const refused = await run(["send", "--to", "+8613711110008", "--code", CODE, ...addrArgs()]);
    expect(refused.code).toBe(3);
    const lost = await run(["send", "--to", "+8613711110009", "--code", CODE, ...addrArgs()]);
    expect(lost.code).toBe(4);
    expect(lost.stdout.lines()).toEqual([`call ${CALL_ID} via sandbox PENDING`]);
    expect(lost.stderr.lines()).toEqual([
      `hint: the provider's answer was lost; follow the call with: voicecode watch ${CALL_ID} --addr ${server.addr}`,
    ]);
  });

  it("--watch interrupted by a draining server: exit 4 and a resume command naming the call", async () => {
    server = await startFakeServer({
      send: () => accepted,
      async *watchStatus() {
        yield { event: HISTORY[0] };
        throw new ConnectError("server is draining; resume with after_sequence=10", Code.Unavailable);
      },
    });
    const r = await run(["send", "--to", "+8613711112222", "--code", CODE, "--watch", ...addrArgs()]);
    expect(r.code).toBe(4);
    expect(r.stderr.lines()).toEqual([
      "error: unavailable: server is draining; resume with after_sequence=10",
      `hint: resume with: voicecode watch ${CALL_ID} --after 10 --addr ${server.addr}`,
    ]);
  });

  it("--watch interrupted before any event still names the call", async () => {
    server = await startFakeServer({
      send: () => accepted,
      // biome-ignore lint/correctness/useYield: a stream that fails before its first event
      async *watchStatus() {
        throw new ConnectError("server is draining; resume with after_sequence=0", Code.Unavailable);
      },
    });
    const r = await run(["send", "--to", "+8613711112222", "--code", CODE, "--watch"], {
      env: { VOICECODE_ADDR: server.addr },
    });
    expect(r.code).toBe(4);
    expect(r.stderr.lines()[1]).toBe(`hint: resume with: voicecode watch ${CALL_ID} --addr ${server.addr}`);
  });

  it("reports a server error as error: <code>: <message> and exits 1", async () => {
    server = await startFakeServer({
      send: () => {
        throw new ConnectError("phone_number: not a possible number", Code.InvalidArgument);
      },
    });
    const r = await run(["send", "--to", "+860", "--code", CODE, ...addrArgs()]);
    expect(r.code).toBe(1);
    expect(r.stderr.text()).toBe("error: invalid_argument: phone_number: not a possible number\n");
    expect(r.stdout.text()).toBe("");
    expect(r.stderr.text()).not.toContain(CODE);
  });
});

describe("--json errors", () => {
  it("an RPC error is one JSON object on stderr", async () => {
    server = await startFakeServer({
      send: () => {
        throw new ConnectError("phone_number: not a possible number", Code.InvalidArgument);
      },
    });
    const r = await run(["send", "--json", "--to", "+860", "--code", CODE, ...addrArgs()]);
    expect(r.code).toBe(1);
    expect(r.stdout.text()).toBe("");
    expect(r.stderr.lines().map((l) => JSON.parse(l))).toEqual([
      { error: { code: "invalid_argument", message: "phone_number: not a possible number" } },
    ]);
  });

  it("a usage error is JSON too, without the usage text", async () => {
    const r = await run(["send", "--json", "--to", "+8613711112222"]);
    expect(r.code).toBe(2);
    expect(r.stderr.lines().map((l) => JSON.parse(l))).toEqual([{ error: { code: "usage", message: "missing --code (or --generate)" } }]);
  });

  it("a drained watch carries the resume point and command", async () => {
    server = await startFakeServer({
      send: () => accepted,
      async *watchStatus() {
        yield { event: HISTORY[0] };
        throw new ConnectError("server draining", Code.Unavailable);
      },
    });
    const r = await run(["send", "--json", "--to", "+8613711112222", "--code", CODE, "--watch", ...addrArgs()]);
    expect(r.code).toBe(4);
    expect(r.stderr.lines().map((l) => JSON.parse(l))).toEqual([
      {
        error: {
          code: "unavailable",
          message: "server draining",
          callId: CALL_ID,
          afterSequence: "10",
          hint: `resume with: voicecode watch ${CALL_ID} --after 10 --addr ${server.addr}`,
        },
      },
    ]);
  });
});

describe("watch", () => {
  it("prints events in order until the terminal one (FAILED: exit 3)", async () => {
    server = await startFakeServer({
      async *watchStatus() {
        for (const ev of HISTORY) yield { event: ev };
      },
    });
    const r = await run(["watch", CALL_ID, "--after", "9", ...addrArgs()]);
    expect(r.code).toBe(3);
    expect(r.stdout.lines().map((l) => l.split("  ")[0])).toEqual(["#10", "#12", "#14"]);
    expect(server.watches[0]?.target).toEqual({ case: "callId", value: CALL_ID });
    expect(server.watches[0]?.afterSequence).toBe(9n);
  });

  it("watches a client reference, showing the call id, as JSON lines", async () => {
    server = await startFakeServer({
      async *watchStatus() {
        for (const ev of HISTORY.slice(0, 2)) yield { event: ev };
      },
    });
    const human = await run(["watch", "--ref", "order-7", ...addrArgs()]);
    expect(human.stdout.lines()[0]).toBe(`#10  2026-11-25T20:31:10Z  ${CALL_ID}  ACCEPTED`);
    expect(server.watches[0]?.target).toEqual({ case: "clientReference", value: "order-7" });

    const json = await run(["watch", "--ref", "order-7", "--json", ...addrArgs()]);
    const events = json.stdout.lines().map((l) => fromJsonString(StatusEventSchema, l));
    expect(events.map((e) => e.sequence)).toEqual([10n, 12n]);
  });

  it("Ctrl-C cancels the stream quietly", async () => {
    let serverSawCancel!: () => void;
    const cancelled = new Promise<void>((resolve) => (serverSawCancel = resolve));
    server = await startFakeServer({
      async *watchStatus(_req, ctx) {
        yield { event: HISTORY[0] };
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        serverSawCancel();
      },
    });
    const controller = new AbortController();
    const stdout = capture(() => controller.abort());
    const r = await run(["watch", "--ref", "order-7", ...addrArgs()], { signal: controller.signal, stdout });
    expect(r.code).toBe(130);
    expect(r.stderr.text()).toBe("");
    expect(r.stdout.lines()).toHaveLength(1);
    await cancelled;
  });

  it("on a broken stream gives the whole command to resume with, exit 4", async () => {
    server = await startFakeServer({
      async *watchStatus() {
        yield { event: HISTORY[0] };
        throw new ConnectError("server draining", Code.Unavailable);
      },
    });
    const r = await run(["watch", "--ref", "order-7", ...addrArgs()]);
    expect(r.code).toBe(4);
    expect(r.stderr.lines()).toEqual([
      "error: unavailable: server draining",
      `hint: resume with: voicecode watch --ref order-7 --after 10 --addr ${server.addr}`,
    ]);
  });

  it("quotes a reference the shell would split in the resume command", async () => {
    server = await startFakeServer({
      async *watchStatus() {
        yield { event: HISTORY[0] };
        throw new ConnectError("server draining", Code.Unavailable);
      },
    });
    const r = await run(["watch", "--ref", "it's mine", ...addrArgs()]);
    expect(r.stderr.lines()[1]).toBe(`hint: resume with: voicecode watch --ref 'it'\\''s mine' --after 10 --addr ${server.addr}`);
  });

  it("exit code follows how the watched call ended", async () => {
    const ends = async (events: StatusEvent[]) => {
      server = await startFakeServer({
        async *watchStatus() {
          for (const ev of events) yield { event: ev };
        },
      });
      const r = await run(["watch", CALL_ID, ...addrArgs()]);
      await server.close();
      server = undefined;
      return r.code;
    };
    expect(await ends([event(10, CallState.ACCEPTED), event(11, CallState.COMPLETED)])).toBe(0);
    expect(await ends(HISTORY)).toBe(3);
    // A provisional FAILED is not terminal, but the state is final: the server ends the
    // stream when no precise reason came within its grace period.
    const provisional = { ...event(11, CallState.FAILED, { failureReason: FailureReason.UNKNOWN }), terminal: false, provisional: true };
    expect(await ends([event(10, CallState.ACCEPTED), provisional])).toBe(3);
    // The stream ended before the call did: the outcome is not known.
    expect(await ends([event(10, CallState.ACCEPTED), event(12, CallState.RINGING)])).toBe(4);
  });
});

describe("get", () => {
  it("prints the call record and its history", async () => {
    server = await startFakeServer({
      getCall: () =>
        create(GetCallResponseSchema, {
          call: create(CallSchema, {
            callId: CALL_ID,
            provider: "sandbox",
            providerCallId: "sbx_42",
            phoneNumberMasked: "+86*******2222",
            playTimes: 2,
            clientReference: "order-7",
            metadata: { tenant: "acme" },
            state: CallState.FAILED,
            failureReason: FailureReason.BUSY,
            createTime: timestampFromMs(T0),
            updateTime: timestampFromMs(T0 + 14_000),
          }),
          events: HISTORY,
        }),
    });
    const r = await run(["get", CALL_ID, ...addrArgs()]);
    expect(r.code).toBe(0);
    expect(server.gets[0]?.callId).toBe(CALL_ID);
    expect(r.stdout.lines()).toEqual([
      `call ${CALL_ID} via sandbox (provider id sbx_42) FAILED (BUSY)`,
      "  to        +86*******2222",
      "  plays     2",
      "  ref       order-7",
      "  created   2026-11-25T20:31:00Z",
      "  updated   2026-11-25T20:31:14Z",
      "  meta      tenant=acme",
      "events:",
      "  #10  2026-11-25T20:31:10Z  ACCEPTED",
      "  #12  2026-11-25T20:31:12Z  RINGING",
      '  #14  2026-11-25T20:31:14Z  FAILED (BUSY)  provider code 486 "Busy Here"',
    ]);
  });

  it("reports NOT_FOUND and uses VOICECODE_ADDR", async () => {
    server = await startFakeServer({
      getCall: () => {
        throw new ConnectError("call_id: no such call", Code.NotFound);
      },
    });
    const r = await run(["get", "nope"], { env: { VOICECODE_ADDR: server.addr } });
    expect(r.code).toBe(1);
    expect(r.stderr.text()).toBe("error: not_found: call_id: no such call\n");
  });
});

describe("usage", () => {
  it.each([
    [["send", "--code", CODE]],
    [["send", "--to", "+8613711112222"]],
    [["send", "--to", "+8613711112222", "--code", CODE, "--meta", "novalue"]],
    [["send", "--to", "+8613711112222", "--code", CODE, "--play-times", "two"]],
    [["send", "--to", "+8613711112222", "--code", "12", "34"]],
    [["get"]],
    [["get", CALL_ID, "--after", "3"]],
    [["watch"]],
    [["watch", CALL_ID, "--ref", "x"]],
    [["dial"]],
    [[]],
    [["send", "--bogus"]],
    [["get", CALL_ID, "--addr", "ftp://example.com"]],
  ])("%j exits 2 with usage on stderr", async (argv) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr.text()).toMatch(/^error: .+\n\nusage: voicecode/);
    expect(r.stdout.text()).toBe("");
    expect(r.stderr.text()).not.toContain(CODE);
  });

  it("--play-times out of range says the range the help gives (1 to 3)", async () => {
    const help = (await run(["send", "--help"])).stdout.text();
    const range = help.match(/--play-times N .*?(\d+ to \d+)/)?.[1];
    expect(range).toBe("1 to 3");
    for (const bad of ["0", "4"]) {
      const r = await run(["send", "--to", "+8613711112222", "--code", CODE, "--play-times", bad]);
      expect(r.code).toBe(2);
      expect(r.stderr.text()).toContain(`error: --play-times must be an integer from ${range}\n`);
    }
  });

  it("the main usage documents every exit code", async () => {
    const text = (await run(["--help"])).stdout.text();
    for (const code of ["0", "1", "2", "3", "4", "130"]) expect(text).toMatch(new RegExp(`^  ${code} +\\S`, "m"));
  });

  it("--help prints the command's usage and exits 0", async () => {
    const r = await run(["send", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.text()).toContain("usage: voicecode send --to E164 (--code DIGITS | --generate)");
    const top = await run(["-h"]);
    expect(top.stdout.text()).toContain("usage: voicecode <command>");
    const help = await run(["help", "watch"]);
    expect(help.stdout.text()).toContain("voicecode watch --ref CLIENT_REF");
  });
});

describe("transport", () => {
  it("pointed at the API port, says so and names the gRPC port", async () => {
    const api = createApiServer({ routes: (router) => router.service(VoiceCode, {}), health: createHealth(true) });
    const port = await api.listen("127.0.0.1", 0);
    try {
      const r = await run(["get", CALL_ID, "--addr", `http://127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr.text()).toBe(
        `error: http://127.0.0.1:${port} looks like the API port (it answered HTTP 415 to gRPC); ` +
          "the CLI speaks gRPC, use the gRPC port (default 50051)\n",
      );
    } finally {
      api.forceClose();
    }
  });

  it("pointed at an HTTP/1-only port (the webhook port), explains itself and does not crash", async () => {
    const http1 = createServer((_req, res) => res.end("{}"));
    await new Promise<void>((resolve) => http1.listen(0, "127.0.0.1", resolve));
    const { port } = http1.address() as AddressInfo;
    try {
      const r = await run(["get", CALL_ID, "--addr", `http://127.0.0.1:${port}`]);
      // Let the HTTP/2 session finish closing: its late "error" event must find a listener.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(r.code).toBe(1);
      expect(r.stderr.text()).toBe(
        `error: http://127.0.0.1:${port} does not speak HTTP/2 (the webhook port?); ` +
          "the CLI speaks gRPC, use the gRPC port (default 50051)\n",
      );
    } finally {
      http1.closeAllConnections();
      http1.close();
    }
  });

  it("an unreachable server is unavailable, exit 1", async () => {
    const closed = await startFakeServer({});
    await closed.close();
    const r = await run(["get", CALL_ID, "--addr", closed.addr]);
    expect(r.code).toBe(1);
    expect(r.stderr.text()).toMatch(/^error: unavailable: /);
  });
});
