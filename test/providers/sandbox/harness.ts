/** One sandbox carrier + adapter wired to a live receiver, driven by the manual scheduler. */
import type { Provider } from "../../../src/core/provider.js";
import { createSandboxProvider } from "../../../src/providers/sandbox/index.js";
import {
  createSandboxNetwork,
  type SandboxDeliveryError,
  type SandboxNetwork,
  type SandboxNetworkOptions,
} from "../../../src/providers/sandbox/network.js";
import { createManualScheduler, type ManualScheduler } from "../../../src/providers/sandbox/scheduler.js";
import { createSandboxWebhook } from "../../../src/providers/sandbox/webhook.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../support/webhook-receiver.js";

export interface Harness {
  readonly scheduler: ManualScheduler;
  readonly receiver: WebhookReceiver;
  readonly network: SandboxNetwork;
  readonly provider: Provider;
  readonly deliveryErrors: SandboxDeliveryError[];
  /** Points the network elsewhere, e.g. mid-call; undefined means "no URL yet". */
  setUrl(url: string | undefined): void;
  close(): Promise<void>;
}

export async function startHarness(overrides: Partial<SandboxNetworkOptions> = {}): Promise<Harness> {
  const scheduler = createManualScheduler();
  const receiver = await startWebhookReceiver(createSandboxWebhook());
  const deliveryErrors: SandboxDeliveryError[] = [];
  let url: string | undefined = receiver.url;
  const network = createSandboxNetwork({
    callbackUrl: () => url,
    scheduler,
    stepDelayMs: 800,
    retryDelayMs: 1000,
    onDeliveryError: (error) => deliveryErrors.push(error),
    ...overrides,
  });
  return {
    scheduler,
    receiver,
    network,
    provider: createSandboxProvider({ network }),
    deliveryErrors,
    setUrl(next) {
      url = next;
    },
    async close() {
      network.close();
      await receiver.stop();
    },
  };
}

/** A mainland mobile number ending in the given four digits. */
export function numberEnding(suffix: string): string {
  return `+86137000${suffix.padStart(5, "0")}`;
}

export function sendRequest(callId: string, suffix: string, playTimes = 2) {
  return { callId, phoneNumber: numberEnding(suffix), code: "493817", playTimes };
}
