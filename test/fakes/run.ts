/**
 * One provider's contract fake, standalone, to try the whole path by hand:
 *
 *   npm run fake -- <tencent|ytx|kingsoft|huawei> [--port N] [--callback URL]
 *
 * It starts the fake (a fixed port per provider, so the printed environment stays
 * valid across restarts), points its callbacks at voicecode's webhook port, prints the
 * variables that start voicecode against it, the commands to try and the fake's table
 * of outcomes by last four digits, then logs each call and callback until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import type { ContractFake } from "./contract-fake.js";
import { startHuaweiFake } from "./huawei.js";
import { startKingsoftFake } from "./kingsoft.js";
import { renderOutcomeTable } from "./outcomes.js";
import { startTencentFake } from "./tencent.js";
import { startYtxFake } from "./ytx.js";

/** Slow enough to watch: about the sandbox's pace. Retries back off from 500 ms. */
const STEP_MS = 800;
const RETRY_MS = 500;

const FAKES: Readonly<Record<string, { port: number; start(port: number): Promise<ContractFake> }>> = {
  tencent: { port: 9401, start: (port) => startTencentFake({ port, stepMs: STEP_MS, retryDelayMs: RETRY_MS }) },
  ytx: { port: 9402, start: (port) => startYtxFake({ port, stepMs: STEP_MS, retryDelayMs: RETRY_MS }) },
  kingsoft: { port: 9403, start: (port) => startKingsoftFake({ port, stepMs: STEP_MS, retryMs: RETRY_MS }) },
  huawei: { port: 9404, start: (port) => startHuaweiFake({ port, stepMs: STEP_MS, retryMs: RETRY_MS }) },
};

const usage = `usage: npm run fake -- <${Object.keys(FAKES).join("|")}> [--port N] [--callback URL]`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: "string" }, callback: { type: "string" }, help: { type: "boolean", short: "h" } },
});
const name = positionals[0] ?? "";
const entry = FAKES[name];
if (values.help === true || entry === undefined || positionals.length !== 1) {
  process.stderr.write(`${usage}\n`);
  process.exit(values.help === true ? 0 : 64);
}
const port = values.port === undefined ? entry.port : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port: not a port number\n${usage}\n`);
  process.exit(64);
}

// The webhook token comes from the callback URL when it has voicecode's route shape.
const upper = name.toUpperCase();
const callback = values.callback ?? `http://127.0.0.1:8081/webhooks/${name}/dev-${name}-webhook-token-000`;
const route = new RegExp(`^(https?://.+?)/webhooks/${name}/([A-Za-z0-9_-]{16,})$`).exec(callback);
const token = route?.[2] ?? `dev-${name}-webhook-token-000`;

const fake = await entry.start(port);
fake.setCallbackUrl(callback);

const env: Record<string, string> = {
  ...fake.env,
  [`VOICECODE_${upper}_WEBHOOK_TOKEN`]: token,
  VOICECODE_DEFAULT_PROVIDER: name,
};
// Huawei takes its callback URL with each request, built from the public URL.
if (name === "huawei" && route !== null) env.VOICECODE_WEBHOOK_PUBLIC_URL = route[1] as string;

const quote = (v: string) => (/^[\w@%+=:,./-]*$/.test(v) ? v : `'${v.replaceAll("'", `'\\''`)}'`);
// The fake's outcome table: the sandbox's endings (README "Sandbox outcomes"), played its provider's way.
const table = renderOutcomeTable(fake.outcomes).map((l) => `  ${l}`);
const send = `node bin/voicecode.js send --provider ${name} --code 1234 --watch --to`;

process.stdout.write(
  [
    `${name} contract fake listening on ${fake.url}; callbacks go to ${callback}`,
    "",
    "Start voicecode against it (in another terminal, from the repository):",
    "",
    ...Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}`),
    "npm start",
    "",
    "Then place calls (the last four digits choose the outcome):",
    "",
    `${send} +8613711112222     # answered, completed`,
    `${send} +8613711110001     # busy (the same endings as the sandbox)`,
    "node bin/voicecode.js get <call-id>",
    "",
    ...table,
    "",
    "Ctrl-C stops the fake.",
    "",
  ].join("\n"),
);

// Log what the fake does: each accepted call and each callback attempt with its answer.
const deliveries = (fake as unknown as { deliveries: readonly Record<string, unknown>[] }).deliveries;
let seenCalls = 0;
let seenDeliveries = 0;
const poll = setInterval(() => {
  for (; seenCalls < fake.calls.length; seenCalls++) {
    const call = fake.calls[seenCalls]!;
    process.stdout.write(`call accepted: ${call.providerCallId} to …${call.phoneNumber.slice(-4)}\n`);
  }
  for (; seenDeliveries < deliveries.length; seenDeliveries++) {
    const d = deliveries[seenDeliveries]!;
    const answer = d.status ?? d.result ?? "no answer";
    process.stdout.write(`callback -> ${answer || "no answer"}: ${String(d.body).slice(0, 160)}\n`);
  }
}, 100);

const stop = () => {
  clearInterval(poll);
  void fake.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
