/** The process: env -> config, start, print how to call it, stop on SIGTERM/SIGINT. */
import { parseConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server.js";
import { createSignalPolicy } from "./shutdown-signals.js";

const parsed = parseConfig(process.env);
if (!parsed.ok) {
  process.stderr.write(`voicecode: invalid configuration\n${parsed.errors.map((e) => `  ${e}\n`).join("")}`);
  process.exit(78); // EX_CONFIG
}
const { config } = parsed;
const logger = createLogger(config.logLevel);

try {
  const server = await startServer({ config, logger });
  const local = (port: number) => `http://127.0.0.1:${port}`;
  process.stderr.write(
    [
      "",
      `voicecode is running (${config.postgres === undefined ? "SQLite" : "PostgreSQL"}; providers: ${server.providers.join(", ")}).`,
      server.authenticator.open
        ? "  OPEN: no API keys configured; every caller is tenant \"default\" (see docs/callers.md to add keys)."
        : `  API keys required (tenants: ${server.authenticator.tenants.join(", ") || "none"}); pass --api-key or VOICECODE_API_KEY.`,
      ...config.providers.flatMap(({ name, setup }) =>
        setup.status === "incomplete" ? [`  not offered: ${name} (missing ${setup.missing.join(", ")})`] : [],
      ),
      `  gRPC      ${local(server.grpcPort)}   (voicecode.v1.VoiceCode, grpc.health.v1.Health)`,
      `  API       ${local(server.apiPort)}   (Connect JSON + gRPC-Web, /healthz /readyz${config.metricsOnApiPort ? " /metrics" : ""})`,
      `  webhooks  ${local(server.webhookPort)}   (provider callbacks only)`,
      "",
      "Try it:",
      `  node bin/voicecode.js send --addr ${local(server.grpcPort)} --to +8613711112222 --code 1234 --watch`,
      `  curl -s ${local(server.apiPort)}/voicecode.v1.VoiceCode/Send -H 'content-type: application/json' \\`,
      `       -d '{"phoneNumber":"+8613711110001","code":"1234"}'`,
      "",
    ].join("\n"),
  );

  const decide = createSignalPolicy({ now: Date.now });
  const onSignal = (signal: NodeJS.Signals) => {
    const action = decide(signal);
    if (action === "ignore") return;
    if (action === "exit") {
      logger.warn({ signal }, "second signal; exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "draining");
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: String(err) }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
} catch (err) {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, "start-up failed");
  process.exit(1);
}
