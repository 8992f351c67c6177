/**
 * What every provider contract fake offers, so the end-to-end tests and the
 * standalone runner (npm run fake) can drive any of them the same way. Each fake is a
 * small HTTP server that verifies requests the way the real provider does (signature,
 * timestamp window, required parameters) and pushes the provider's documented
 * callbacks to our webhook ingress, retrying like the provider until acknowledged.
 */
import type { FakeOutcomeTable } from "./outcomes.js";

export interface FakeCall {
  /** The id the fake returned (the provider call id our adapter records). */
  readonly providerCallId: string;
  /** The callee number exactly as the adapter sent it. */
  readonly phoneNumber: string;
  readonly code: string;
  readonly playTimes: number;
  /** The echo field the adapter set (our call id), when the provider has one. */
  readonly echo: string | undefined;
}

export interface ContractFake {
  readonly provider: string;
  /** What the fake does by the callee's last four digits, on the sandbox's endings (outcomes.ts). */
  readonly outcomes: FakeOutcomeTable;
  /** Base URL of the fake API, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  /**
   * Environment that points voicecode at this fake: credentials, endpoint override,
   * app ids, display numbers. Not the webhook token (the test chooses that).
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Where the fake posts status callbacks, like the URL entered in the provider's
   * console. (Huawei takes the URL from each request and uses this only as fallback.)
   */
  setCallbackUrl(url: string): void;
  /** Calls the fake accepted, in order. */
  readonly calls: readonly FakeCall[];
  /** Resolves when every callback scheduled so far was acknowledged or given up. */
  settled(): Promise<void>;
  close(): Promise<void>;
}
