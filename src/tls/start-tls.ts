/** The server's TlsSource from the config (undefined: plaintext), logging each reload. */
import type { Logger } from "pino";
import type { Config, TlsConfig } from "../config.js";
import { type TlsSource, createTlsSource } from "./tls-source.js";
import { X509Certificate } from "node:crypto";

export function startTls(config: TlsConfig | undefined, logger: Logger): TlsSource | undefined {
  if (config === undefined) return undefined;
  const log = logger.child({ component: "tls" });
  const describe = (cert: Buffer) => {
    const x = new X509Certificate(cert);
    return { subject: x.subject, validTo: x.validTo, fingerprint256: x.fingerprint256 };
  };
  log.info({ ...describe(config.initial.cert), mtls: config.initial.ca !== undefined }, "TLS certificate loaded");
  return createTlsSource({
    files: config.files,
    initial: config.initial,
    pollMs: config.reloadMs,
    onReload: (material) => log.info(describe(material.cert), "TLS certificate reloaded"),
    onReloadError: (errors) => log.error({ errors }, "TLS files not reloaded; the previous certificate stays in force"),
  });
}

/** For the start-up line: plaintext, tls or mtls. */
export function tlsMode(config: Pick<Config, "tls">): "plaintext" | "tls" | "mtls" {
  if (config.tls === undefined) return "plaintext";
  return config.tls.initial.ca === undefined ? "tls" : "mtls";
}
