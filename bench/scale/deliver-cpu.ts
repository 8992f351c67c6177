/**
 * CPU per WatchStatus stream opened, and per event delivered to an idle one, on the gRPC
 * path past grpc-js, in one process and without sockets: `--streams` watches opened
 * through the gRPC handler on fake calls (grpc-js's handler side as implement.ts sees
 * it; open = each watch's first event read done), then one stored event for each of
 * `--events` watched calls; the CPU from publishing their notices until every watch has
 * written its event, per event (the store's read, the protobuf message, the write). The
 * tree's dist/ is used, so `--root` can point at a `git archive` of another commit for a
 * same-session before/after.
 *
 *   npx tsx bench/scale/deliver-cpu.ts [--root .] [--streams 10000] [--events 2000] [--rounds 5]
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { Metadata } from "@grpc/grpc-js";
import { pino } from "pino";

const { values } = parseArgs({
  options: {
    root: { type: "string", default: "." },
    streams: { type: "string", default: "10000" },
    events: { type: "string", default: "2000" },
    rounds: { type: "string", default: "5" },
  },
});
const root = resolve(values.root);
const streams = Number(values.streams);
const events = Number(values.events);
const rounds = Number(values.rounds);
const dist = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(root, "dist", path)).href)) as T;

/** The handler side of a grpc-js server-streaming call, as implement.ts uses it. */
class FakeCall extends EventEmitter {
  cancelled = false;
  readonly metadata = new Metadata();
  constructor(
    readonly request: unknown,
    private readonly onWrite: () => void,
  ) {
    super();
  }
  write(_message: unknown): boolean {
    this.onWrite();
    return true;
  }
  sendMetadata(_metadata: Metadata): void {}
  end(): void {}
}

async function main(): Promise<void> {
  const serverModule = await dist<typeof import("../../src/server.js")>("src/server.js");
  const configModule = await dist<typeof import("../../src/config.js")>("src/config.js");
  const pb = await dist<typeof import("../../gen/voicecode/v1/voicecode_pb.js")>("gen/voicecode/v1/voicecode_pb.js");
  const implement = await dist<typeof import("../../src/api/grpc/implement.js")>("src/api/grpc/implement.js");
  const scopes = await dist<typeof import("../../src/telemetry/request-scope.js")>("src/telemetry/request-scope.js");

  const dir = mkdtempSync(join(tmpdir(), "voicecode-deliver-"));
  const parsed = configModule.parseConfig({
    VOICECODE_HOST: "127.0.0.1",
    VOICECODE_GRPC_PORT: "0",
    VOICECODE_API_PORT: "0",
    VOICECODE_WEBHOOK_PORT: "0",
    VOICECODE_DB_PATH: join(dir, "voicecode.db"),
    VOICECODE_LOG_LEVEL: "silent",
    VOICECODE_SANDBOX_STEP_MS: "3600000",
    ...configModule.NO_LIMITS_ENV,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const server = await serverModule.startServer({ config: parsed.config, logger: pino({ level: "silent" }) });
  const caller = { tenant: "default" } as const;
  try {
    const service = server.service as typeof server.service & {
      pushWatchStatus?: (request: unknown, caller: unknown, sink: unknown) => unknown;
    };
    // The same handler the gRPC port builds: pushed when the core offers it, else pumped.
    const watchStatus =
      service.pushWatchStatus === undefined
        ? (request: never, signal: AbortSignal) => service.watchStatus(request, signal, caller)
        : { push: (request: never, sink: never) => service.pushWatchStatus?.(request, caller, sink) };
    const unused = () => {
      throw new Error("unused");
    };
    const handlers = implement.grpcImplementation(
      pb.VoiceCode,
      { send: unused, notify: unused, getCall: unused, check: unused, watchStatus } as never,
      {
        scope: (method, metadata) =>
          scopes.startRequest({
            name: `${method.parent.typeName}/${method.name}`,
            header: (name) => {
              const v = metadata.get(name);
              return v.length === 1 && typeof v[0] === "string" ? v[0] : undefined;
            },
          }),
      },
    ) as unknown as Record<string, (call: FakeCall) => void>;
    const handle = handlers.watchStatus;
    if (handle === undefined) throw new Error("no watchStatus handler");

    for (let round = 1; round <= rounds; round++) {
      const calls: { callId: string; providerCallId: string; after: number }[] = [];
      for (let i = 0; i < streams; i++) {
        const sent = await service.send(
          create(pb.SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference: `r${round}-${i}` }),
          new AbortController().signal,
          caller,
        );
        const listed = await server.store.listEvents({ callId: sent.callId }, 0, 100);
        calls.push({ callId: sent.callId, providerCallId: sent.providerCallId, after: listed.at(-1)?.sequence ?? 0 });
      }
      let writes = 0;
      let wanted = 0;
      let reached: () => void = () => {};
      const onWrite = () => {
        writes++;
        if (writes === wanted) reached();
      };
      // A watch is open when its first read of events is done (as bench/scale/server.ts counts).
      const store = server.store as { listEvents: typeof server.store.listEvents };
      const listEvents = store.listEvents;
      let opened = 0;
      let allOpen: () => void = () => {};
      const everyOpen = new Promise<void>((r) => {
        allOpen = r;
      });
      store.listEvents = async (...a) => {
        const listed = await listEvents.apply(server.store, a);
        if (++opened === calls.length) allOpen();
        return listed;
      };
      (globalThis as { gc?: () => void }).gc?.();
      const openCpu = process.cpuUsage();
      const open: FakeCall[] = [];
      for (const c of calls) {
        const request = create(pb.WatchStatusRequestSchema, { target: { case: "callId", value: c.callId }, afterSequence: BigInt(c.after) });
        const call = new FakeCall(request, onWrite);
        open.push(call);
        handle(call);
      }
      await everyOpen;
      const openUsed = process.cpuUsage(openCpu);
      store.listEvents = listEvents;
      // Let every watch go idle.
      await new Promise((r) => setTimeout(r, 500));

      // Store the events first; only their notices and the deliveries are measured.
      const appended = [];
      for (const c of calls.slice(0, events)) {
        const result = await server.store.ingest(
          "sandbox",
          [
            {
              dedupeKey: `ring-${c.callId}`,
              providerCallId: c.providerCallId,
              callId: c.callId,
              state: pb.CallState.RINGING,
              failureReason: pb.FailureReason.UNSPECIFIED,
              providerCode: "180",
              providerText: "Ringing",
              occurredAtMs: undefined,
              provisional: false,
            },
          ],
          Date.now(),
        );
        appended.push(...result.appended);
      }
      if (appended.length !== events) throw new Error(`${appended.length} events stored, not ${events}`);
      (globalThis as { gc?: () => void }).gc?.();
      wanted = events;
      const done = new Promise<void>((r) => {
        reached = r;
      });
      const cpu = process.cpuUsage();
      for (const e of appended) server.bus.publish([e]);
      await done;
      const used = process.cpuUsage(cpu);
      const perOpen = (openUsed.user + openUsed.system) / streams;
      console.log(
        `round ${round}: ${perOpen.toFixed(1)} µs CPU per opened watch, ` +
          `${((used.user + used.system) / events).toFixed(1)} µs per delivered event (${events} of ${streams} watches)`,
      );
      for (const call of open) call.emit("cancelled");
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
