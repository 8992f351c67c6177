/** argv to a typed command; every rejection is a UsageError so main can exit 2 uniformly. */
import { parseArgs } from "node:util";
import { COMMANDS, type CommandName, DEFAULT_ADDR, PLAY_TIMES } from "./usage.js";

export interface GlobalOptions {
  readonly addr: string;
  /** --api-key, else $VOICECODE_API_KEY; undefined: none sent (a server without keys). */
  readonly apiKey: string | undefined;
  readonly json: boolean;
  readonly timeoutMs: number | undefined;
}

export interface SendArgs {
  readonly kind: "send";
  readonly to: string;
  readonly code: string;
  readonly playTimes: number | undefined;
  readonly provider: string;
  readonly ref: string;
  readonly idempotencyKey: string;
  readonly meta: Record<string, string>;
  readonly watch: boolean;
  /** --generate: the server draws the code (never shown); --code must be absent. */
  readonly generate: boolean;
  readonly codeLength: number | undefined;
  readonly codeTtlSeconds: number | undefined;
  /** --check: keep the caller's code (hashed) for `voicecode check`. */
  readonly enableCheck: boolean;
}

export interface CheckArgs {
  readonly kind: "check";
  readonly target: WatchTarget;
  readonly code: string;
}

export interface NotifyArgs {
  readonly kind: "notify";
  readonly to: string;
  readonly template: string;
  /** Never printed: the values may be personal data. */
  readonly params: Record<string, string>;
  readonly ivr: boolean;
  readonly caller: string;
  readonly provider: string;
  readonly ref: string;
  readonly idempotencyKey: string;
  readonly meta: Record<string, string>;
  readonly watch: boolean;
}

export type WatchTarget =
  | { readonly case: "callId"; readonly value: string }
  | { readonly case: "clientReference"; readonly value: string };

export interface WatchArgs {
  readonly kind: "watch";
  readonly target: WatchTarget;
  readonly after: bigint;
}

export interface GetArgs {
  readonly kind: "get";
  readonly callId: string;
}

export type CommandArgs = SendArgs | NotifyArgs | WatchArgs | GetArgs | CheckArgs;

export type ParsedCli =
  | { readonly kind: "help"; readonly topic: CommandName | undefined }
  | { readonly kind: "run"; readonly global: GlobalOptions; readonly command: CommandArgs };

export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly topic: CommandName | undefined,
  ) {
    super(message);
  }
}

// One union table parsed once, so global options may appear before or after the command;
// per-command allow-lists then reject options that belong to another command.
const OPTIONS = {
  addr: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean" },
  "timeout-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
  to: { type: "string" },
  code: { type: "string" },
  "play-times": { type: "string" },
  provider: { type: "string" },
  ref: { type: "string" },
  "idempotency-key": { type: "string" },
  meta: { type: "string", multiple: true },
  watch: { type: "boolean" },
  after: { type: "string" },
  generate: { type: "boolean" },
  "code-length": { type: "string" },
  "code-ttl": { type: "string" },
  check: { type: "boolean" },
  template: { type: "string" },
  param: { type: "string", multiple: true },
  ivr: { type: "boolean" },
  caller: { type: "string" },
} as const;

type OptionName = keyof typeof OPTIONS;

const GLOBAL: readonly OptionName[] = ["addr", "api-key", "json", "timeout-ms", "help"];
const ALLOWED: Record<CommandName, readonly OptionName[]> = {
  send: [
    "to",
    "code",
    "play-times",
    "provider",
    "ref",
    "idempotency-key",
    "meta",
    "watch",
    "generate",
    "code-length",
    "code-ttl",
    "check",
  ],
  notify: ["to", "template", "param", "ivr", "caller", "provider", "ref", "idempotency-key", "meta", "watch"],
  watch: ["ref", "after"],
  get: [],
  check: ["ref", "code"],
};

type Values = ReturnType<typeof parseOptions>["values"];

function parseOptions(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
}

function isCommand(name: string | undefined): name is CommandName {
  return COMMANDS.some((c) => c === name);
}

export function parseCli(argv: string[], env: Record<string, string | undefined>): ParsedCli {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    // parseArgs messages name the option, never its value, so they are safe to show.
    const topic = argv.find(isCommand);
    throw new UsageError(err instanceof Error ? err.message : String(err), topic);
  }
  const { values, positionals } = parsed;
  const [first, ...rest] = positionals;

  if (first === "help") {
    const topic = rest[0];
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`unknown command '${topic}'`, undefined);
    return { kind: "help", topic };
  }
  if (first === undefined) {
    if (values.help === true) return { kind: "help", topic: undefined };
    throw new UsageError("missing command", undefined);
  }
  if (!isCommand(first)) throw new UsageError(`unknown command '${first}'`, undefined);
  if (values.help === true) return { kind: "help", topic: first };

  for (const name of Object.keys(values)) {
    const known = name as OptionName;
    if (!GLOBAL.includes(known) && !ALLOWED[first].includes(known)) {
      throw new UsageError(`option '--${name}' does not apply to ${first}`, first);
    }
  }
  return { kind: "run", global: parseGlobal(values, env, first), command: parseCommand(first, values, rest) };
}

function parseGlobal(values: Values, env: Record<string, string | undefined>, topic: CommandName): GlobalOptions {
  const timeout = values["timeout-ms"];
  return {
    addr: parseAddr(values.addr ?? (env.VOICECODE_ADDR || DEFAULT_ADDR), topic),
    apiKey: values["api-key"] || env.VOICECODE_API_KEY || undefined,
    json: values.json === true,
    timeoutMs: timeout === undefined ? undefined : parseCount(timeout, "--timeout-ms", topic, 1),
  };
}

function parseAddr(raw: string, topic: CommandName): string {
  // Accept a bare host:port, the form people copy from server logs.
  const withScheme = raw.includes("://") ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`invalid --addr '${raw}'`, topic);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--addr must be an http:// or https:// URL`, topic);
  }
  return url.href.replace(/\/$/, "");
}

// uint32 bound so an oversized value is a usage error rather than an encoder exception.
const MAX_COUNT = 0xffff_ffff;

function parseCount(raw: string, flag: string, topic: CommandName, min: number, max = MAX_COUNT): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}`, topic);
  }
  return Number(raw);
}

function parseCommand(name: CommandName, values: Values, positionals: string[]): CommandArgs {
  switch (name) {
    case "send":
      return parseSend(values, positionals);
    case "notify":
      return parseNotify(values, positionals);
    case "watch":
      return parseWatch(values, positionals);
    case "get":
      return parseGet(positionals);
    case "check":
      return parseCheck(values, positionals);
  }
}

function parseCheck(values: Values, positionals: string[]): CheckArgs {
  const ref = values.ref;
  if (positionals.length > 1) throw new UsageError("check takes at most one call id", "check");
  const callId = positionals[0];
  if (callId === undefined && ref === undefined) throw new UsageError("check needs a call id or --ref", "check");
  if (callId !== undefined && ref !== undefined) throw new UsageError("give a call id or --ref, not both", "check");
  const code = values.code ?? "";
  if (code === "") throw new UsageError("missing --code", "check");
  const target: WatchTarget =
    callId !== undefined ? { case: "callId", value: callId } : { case: "clientReference", value: ref ?? "" };
  if (target.value === "") throw new UsageError("empty check target", "check");
  return { kind: "check", target, code };
}

function parseSend(values: Values, positionals: string[]): SendArgs {
  // Stray words are often a mistyped code ("--code 12 34"): reject without echoing them.
  if (positionals.length > 0) throw new UsageError("send takes no positional arguments", "send");
  const to = values.to ?? "";
  const code = values.code ?? "";
  if (to === "") throw new UsageError("missing --to", "send");
  const generate = values.generate === true;
  if (code === "" && !generate) throw new UsageError("missing --code (or --generate)", "send");
  if (code !== "" && generate) throw new UsageError("give --code or --generate, not both", "send");
  const playTimes = values["play-times"];
  const codeLength = values["code-length"];
  const codeTtl = values["code-ttl"];
  return {
    kind: "send",
    to,
    code,
    playTimes: playTimes === undefined ? undefined : parseCount(playTimes, "--play-times", "send", PLAY_TIMES.min, PLAY_TIMES.max),
    provider: values.provider ?? "",
    ref: values.ref ?? "",
    idempotencyKey: values["idempotency-key"] ?? "",
    meta: parseMeta(values.meta ?? []),
    watch: values.watch === true,
    generate,
    codeLength: codeLength === undefined ? undefined : parseCount(codeLength, "--code-length", "send", 1),
    codeTtlSeconds: codeTtl === undefined ? undefined : parseCount(codeTtl, "--code-ttl", "send", 1),
    enableCheck: values.check === true,
  };
}

function parseNotify(values: Values, positionals: string[]): NotifyArgs {
  if (positionals.length > 0) throw new UsageError("notify takes no positional arguments", "notify");
  const to = values.to ?? "";
  const template = values.template ?? "";
  if (to === "") throw new UsageError("missing --to", "notify");
  if (template === "") throw new UsageError("missing --template", "notify");
  return {
    kind: "notify",
    to,
    template,
    params: parseMeta(values.param ?? [], "--param", "notify"),
    ivr: values.ivr === true,
    caller: values.caller ?? "",
    provider: values.provider ?? "",
    ref: values.ref ?? "",
    idempotencyKey: values["idempotency-key"] ?? "",
    meta: parseMeta(values.meta ?? [], "--meta", "notify"),
    watch: values.watch === true,
  };
}

/** key=value pairs; keys are shown in errors, values never (a --param may be personal data). */
function parseMeta(pairs: string[], flag = "--meta", topic: CommandName = "send"): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag} takes key=value`, topic);
    const key = pair.slice(0, eq);
    if (Object.hasOwn(meta, key)) throw new UsageError(`duplicate ${flag} key '${key}'`, topic);
    meta[key] = pair.slice(eq + 1);
  }
  return meta;
}

function parseWatch(values: Values, positionals: string[]): WatchArgs {
  const ref = values.ref;
  if (positionals.length > 1) throw new UsageError("watch takes at most one call id", "watch");
  const callId = positionals[0];
  if (callId === undefined && ref === undefined) throw new UsageError("watch needs a call id or --ref", "watch");
  if (callId !== undefined && ref !== undefined) throw new UsageError("give a call id or --ref, not both", "watch");
  const after = values.after;
  if (after !== undefined && !/^\d+$/.test(after)) throw new UsageError("--after must be an integer >= 0", "watch");
  const target: WatchTarget =
    callId !== undefined ? { case: "callId", value: callId } : { case: "clientReference", value: ref ?? "" };
  if (target.value === "") throw new UsageError("empty watch target", "watch");
  return { kind: "watch", target, after: after === undefined ? 0n : BigInt(after) };
}

function parseGet(positionals: string[]): GetArgs {
  const [callId, ...extra] = positionals;
  if (callId === undefined || callId === "" || extra.length > 0) {
    throw new UsageError("get needs exactly one call id", "get");
  }
  return { kind: "get", callId };
}
