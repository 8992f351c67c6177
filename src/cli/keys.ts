/**
 * `voicecode keys new <tenant>`: makes a fresh API key and prints it once, with the line
 * that configures its hash. Runs locally: no server, no network; the key is not stored.
 */
import { hashApiKey, newApiKey, TENANT_NAME } from "../auth/keys.js";
import type { TextSink } from "./context.js";

export const KEYS_USAGE = `usage: voicecode keys new <tenant> [--json]

print a fresh API key for <tenant> (shown once, stored nowhere) and the line that
configures it: add the line to VOICECODE_API_KEYS_FILE (or "tenant=sha256:..." to
VOICECODE_API_KEYS). Rotate: add a new key, move the caller over, delete the old line.
Tenant names match ${TENANT_NAME.source}.`;

export function runKeys(argv: readonly string[], stdout: TextSink, stderr: TextSink): number {
  const json = argv.includes("--json");
  const rest = argv.filter((a) => a !== "--json");
  if (rest.includes("--help") || rest.includes("-h")) {
    stdout.write(`${KEYS_USAGE}\n`);
    return 0;
  }
  const [action, tenant, ...extra] = rest;
  if (action !== "new" || tenant === undefined || extra.length > 0) {
    stderr.write(`error: expected \`keys new <tenant>\`\n\n${KEYS_USAGE}\n`);
    return 2;
  }
  if (!TENANT_NAME.test(tenant)) {
    stderr.write(`error: tenant name must match ${TENANT_NAME.source}\n`);
    return 2;
  }
  const key = newApiKey();
  const hash = hashApiKey(key);
  if (json) {
    stdout.write(`${JSON.stringify({ tenant, key, hash, line: `${tenant} ${hash}` })}\n`);
    return 0;
  }
  stdout.write(
    [
      `API key for ${tenant} (shown once; give it to the caller, who sends it as --api-key or authorization: Bearer):`,
      `  ${key}`,
      "",
      "Configure the server with this line in VOICECODE_API_KEYS_FILE (re-read on change):",
      `${tenant} ${hash}`,
      `or add ${tenant}=${hash} to VOICECODE_API_KEYS.`,
      "",
    ].join("\n"),
  );
  return 0;
}
