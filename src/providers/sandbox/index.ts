/**
 * The sandbox provider: the embedded default that needs no credentials. It answers like
 * a real provider API (accept, refuse, or lose the answer) and its simulated carrier
 * pushes status callbacks through our real webhook ingress, so the whole pipeline runs.
 * Which outcome a call gets is chosen by the number's last four digits (scenarios.ts).
 *
 * Ownership: whoever creates the network closes it. The provider closes it too only
 * with `ownsNetwork: true`, so a test can keep one carrier alive across server restarts.
 */
import { ulid } from "../../core/ulid.js";
import { FailureReason } from "../../core/model.js";
import type { Provider, SendOutcome } from "../../core/provider.js";
import { SANDBOX_CODES, failureReasonForCode } from "./codes.js";
import type { PlaceCallRequest, SandboxNetwork } from "./network.js";
import { keyPressFor, scenarioFor } from "./scenarios.js";
import { createSandboxWebhook } from "./webhook.js";

export interface SandboxProviderOptions {
  readonly network: SandboxNetwork;
  /** Prefix of provider call ids. Default "sbx_". */
  readonly idPrefix?: string;
  /** Close the network in provider.close(). Default false. */
  readonly ownsNetwork?: boolean;
}

export const SANDBOX_PROVIDER_NAME = "sandbox";

export function createSandboxProvider(options: SandboxProviderOptions): Provider {
  const { network } = options;
  const idPrefix = options.idPrefix ?? "sbx_";

  const place = (request: PlaceCallRequest): SendOutcome | undefined => {
    try {
      network.placeCall(request);
      return undefined;
    } catch {
      // Only a closed network throws, and it places nothing: a definite refusal.
      return {
        kind: "rejected",
        reason: FailureReason.PROVIDER_ERROR,
        providerCode: SANDBOX_CODES.serverError.code,
        providerText: "sandbox network closed",
      };
    }
  };

  /** The API's answer, by the number's scenario; the carrier plays the call's script. */
  const call = (request: Omit<PlaceCallRequest, "providerCallId">, signal: AbortSignal): SendOutcome => {
    signal.throwIfAborted();
    const scenario = scenarioFor(request.phoneNumber);
    if (scenario.api.kind === "refuse") {
      const { code, text } = scenario.api.status;
      return { kind: "rejected", reason: failureReasonForCode(code), providerCode: code, providerText: text };
    }
    const providerCallId = `${idPrefix}${ulid()}`;
    const refused = place({ ...request, providerCallId });
    if (refused !== undefined) return refused;
    if (scenario.api.kind === "lose-answer") {
      return { kind: "ambiguous", detail: "sandbox: the call was placed but the API answer was lost" };
    }
    return { kind: "accepted", providerCallId, providerCode: SANDBOX_CODES.ok.code, providerText: SANDBOX_CODES.ok.text };
  };

  return {
    name: SANDBOX_PROVIDER_NAME,
    check: () => undefined,
    async send(request, signal) {
      return call({ callId: request.callId, phoneNumber: request.phoneNumber, playTimes: request.playTimes }, signal);
    },
    // Any logical template name and any parameters: the sandbox speaks nothing, it only
    // plays the number's scenario (the README's table), with a key press for IVR.
    notifies: ["notification", "ivr"],
    checkNotify: () => undefined,
    async notify(request, signal) {
      return call(
        {
          callId: request.callId,
          phoneNumber: request.phoneNumber,
          playTimes: 1,
          ...(request.collectKeyPress ? { pressedKey: keyPressFor(request.phoneNumber) } : {}),
        },
        signal,
      );
    },
    webhook: createSandboxWebhook(),
    async close() {
      if (options.ownsNetwork === true) network.close();
    },
  };
}

export { createSandboxNetwork, SandboxDeliveryError } from "./network.js";
export type { PlaceCallRequest, ResumeCallRequest, SandboxNetwork, SandboxNetworkOptions } from "./network.js";
export { resumeSandboxCalls } from "./resume.js";
export type { ResumeSandboxOptions } from "./resume.js";
export { createManualScheduler, createRealtimeScheduler } from "./scheduler.js";
export type { ManualScheduler, Scheduler, ScheduledTask } from "./scheduler.js";
export { DEFAULT_SCENARIO, SCENARIOS, describeScenarios, keyPressFor, scenarioFor } from "./scenarios.js";
export type { Scenario, ScenarioDescription } from "./scenarios.js";
export { SANDBOX_CODES, failureReasonForCode } from "./codes.js";
