/** Help texts: kept apart from parsing so `--help` output reads as one document. */
import { EXIT_CODES_TEXT } from "./exit-codes.js";

export type CommandName = "send" | "notify" | "watch" | "get" | "check";

export const COMMANDS: readonly CommandName[] = ["send", "notify", "watch", "get", "check"];

export const DEFAULT_ADDR = "http://127.0.0.1:50051";

/** The proto's range for play_times; the parser's error and the help both quote it. */
export const PLAY_TIMES = { min: 1, max: 3 } as const;

const GLOBAL_OPTIONS = `global options:
  --addr URL            server address (default $VOICECODE_ADDR, else ${DEFAULT_ADDR})
  --api-key KEY         API key sent as authorization: Bearer (default $VOICECODE_API_KEY;
                        prefer the variable: arguments show in the process list)
  --json                print one JSON object per line (protobuf JSON)
  --timeout-ms N        RPC deadline in milliseconds (default 30000 for send/get, none for watch)
  -h, --help            show help`;

const MAIN = `usage: voicecode <command> [options]

commands:
  send     place a verification-code call
  notify   place a template notification call (--ivr: the callee answers with a key)
  watch    stream a call's status events
  get      show a call and its event history
  check    check the code a person typed (calls sent with --generate or --check)
  keys     make an API key for a tenant (\`voicecode keys new <tenant>\`; local, no server)

${GLOBAL_OPTIONS}

${EXIT_CODES_TEXT}

run \`voicecode <command> --help\` for a command's options.`;

const SEND = `usage: voicecode send --to E164 (--code DIGITS | --generate) [options]

place one verification-code call and print its id and state.

options:
  --to E164             number to call, e.g. +8613711112222 (required)
  --code DIGITS         code to speak, 2 to 8 digits (never printed)
  --generate            let the server draw the code (never shown; check it with \`voicecode check\`)
  --code-length N       digits of the generated code, 4 to 8 (server default 6)
  --code-ttl SECONDS    how long the code can be checked, 60 to 3600 (server default 600)
  --check               keep your --code (hashed) so \`voicecode check\` can verify it
  --play-times N        how many times the code is spoken, ${PLAY_TIMES.min} to ${PLAY_TIMES.max} (server default 2)
  --provider NAME       provider to use (default: server routing)
  --ref CLIENT_REF      your own reference, echoed on every status event
  --idempotency-key K   makes retries safe: a repeat returns the first call
  --meta k=v            label stored with the call; repeatable
  --watch               then stream the call's status until it ends

${GLOBAL_OPTIONS}`;

const NOTIFY = `usage: voicecode notify --to E164 --template NAME [--param k=v ...] [options]

place one template notification call ("your order {id} ships today") and print its
id and state; with --ivr the callee answers with a key press, which watch shows.

options:
  --to E164             number to call, e.g. +8613711112222 (required)
  --template NAME       logical template name, mapped per provider by the server (required)
  --param k=v           template variable; repeatable (values are never printed)
  --ivr                 collect a key press (IVR)
  --caller DIGITS       number shown to the callee (default: the provider's)
  --provider NAME       provider to use (default: server routing)
  --ref CLIENT_REF      your own reference, echoed on every status event
  --idempotency-key K   makes retries safe: a repeat returns the first call
  --meta k=v            label stored with the call; repeatable
  --watch               then stream the call's status until it ends

${GLOBAL_OPTIONS}`;

const WATCH = `usage: voicecode watch <call-id> [--after SEQ]
       voicecode watch --ref CLIENT_REF [--after SEQ]

stream status events: stored ones first, then live ones. A call-id watch ends
after the call's terminal event; a --ref watch runs until Ctrl-C.

options:
  --ref CLIENT_REF      watch every call sent with this reference
  --after SEQ           only events with a larger sequence (resume point)

${GLOBAL_OPTIONS}`;

const GET = `usage: voicecode get <call-id>

show one call and its full event history.

${GLOBAL_OPTIONS}`;

const CHECK = `usage: voicecode check <call-id> --code DIGITS
       voicecode check --ref CLIENT_REF --code DIGITS

check the code a person typed against a call sent with --generate or --check
(--ref: the latest such call of that reference). Prints APPROVED, WRONG_CODE (with
the attempts left), EXPIRED, TOO_MANY_ATTEMPTS, ALREADY_APPROVED or NOT_FOUND; exits 0
only for APPROVED, 3 for any other answer, 1 for an RPC error.

options:
  --ref CLIENT_REF      the latest verification of this reference
  --code DIGITS         the code the person typed

${GLOBAL_OPTIONS}`;

export function usageText(command: CommandName | undefined): string {
  switch (command) {
    case "check":
      return CHECK;
    case "send":
      return SEND;
    case "notify":
      return NOTIFY;
    case "watch":
      return WATCH;
    case "get":
      return GET;
    case undefined:
      return MAIN;
  }
}
