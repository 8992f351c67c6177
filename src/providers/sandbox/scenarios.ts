/**
 * The sandbox's code table: the last four digits of the called number choose what the
 * simulated provider does, so clients can rehearse every outcome deterministically with
 * any real-looking number (e.g. +8613700000001 is always busy).
 */
import { CallState, FailureReason } from "../../core/model.js";
import { SANDBOX_CODES, failureReasonForCode, type RawStatus } from "./codes.js";
import { failureReasonForEvent, stateForEvent } from "./normalize.js";
import type { SandboxEvent } from "./wire.js";

export interface ScriptedCallback {
  readonly event: SandboxEvent;
  readonly status: RawStatus;
  /** Wait before this callback, in steps of the network's stepDelayMs. */
  readonly afterSteps: number;
  /** One more step per play of the code: the callee is listening to it. */
  readonly perPlay?: boolean;
}

/** What the provider's synchronous API answers to the send request. */
export type ApiBehaviour =
  | { readonly kind: "accept" }
  /** Refused before placing any call. */
  | { readonly kind: "refuse"; readonly status: RawStatus }
  /** The call is placed, but the answer never reaches us (a timeout, for the caller). */
  | { readonly kind: "lose-answer" };

export interface Scenario {
  readonly name: string;
  readonly api: ApiBehaviour;
  /** The callbacks the carrier pushes, in order; empty when no call is placed. */
  readonly callbacks: readonly ScriptedCallback[];
}

const dialing: ScriptedCallback = { event: "dialing", status: SANDBOX_CODES.trying, afterSteps: 1 };
const ringing: ScriptedCallback = { event: "ringing", status: SANDBOX_CODES.ringing, afterSteps: 1 };
const answered: ScriptedCallback = { event: "answered", status: SANDBOX_CODES.ok, afterSteps: 2 };
const completed: ScriptedCallback = { event: "completed", status: SANDBOX_CODES.ok, afterSteps: 1, perPlay: true };

const failed = (status: RawStatus, afterSteps: number): ScriptedCallback => ({ event: "failed", status, afterSteps });

const COMPLETED_CALL = [dialing, ringing, answered, completed];

export const DEFAULT_SCENARIO: Scenario = { name: "completed", api: { kind: "accept" }, callbacks: COMPLETED_CALL };

/**
 * The called number's last four digits for each outcome. This is the one outcome table:
 * the sandbox (README "Sandbox outcomes") and every provider's contract fake
 * (test/fakes/outcomes.ts) use these endings for these outcomes, so a number that is busy
 * in the sandbox is busy against any fake. Fakes number their extra outcomes from 0010.
 */
export const OUTCOME_ENDINGS = {
  busy: "0001",
  noAnswer: "0002",
  invalidNumber: "0003",
  poweredOff: "0004",
  rejected: "0005",
  unreachable: "0006",
  rateLimited: "0007",
  insufficientBalance: "0008",
  answerLost: "0009",
} as const;

const E = OUTCOME_ENDINGS;

/** Keyed by the called number's last four digits; any other number completes. */
export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  [E.busy]: { name: "busy", api: { kind: "accept" }, callbacks: [dialing, failed(SANDBOX_CODES.busy, 1)] },
  // Rings for a long while before the carrier gives up.
  [E.noAnswer]: { name: "no answer", api: { kind: "accept" }, callbacks: [dialing, ringing, failed(SANDBOX_CODES.noAnswer, 6)] },
  [E.invalidNumber]: { name: "invalid number", api: { kind: "accept" }, callbacks: [dialing, failed(SANDBOX_CODES.notFound, 1)] },
  [E.poweredOff]: { name: "powered off", api: { kind: "accept" }, callbacks: [dialing, failed(SANDBOX_CODES.poweredOff, 1)] },
  [E.rejected]: { name: "rejected", api: { kind: "accept" }, callbacks: [dialing, ringing, failed(SANDBOX_CODES.decline, 2)] },
  [E.unreachable]: { name: "unreachable", api: { kind: "accept" }, callbacks: [dialing, failed(SANDBOX_CODES.unreachable, 1)] },
  [E.rateLimited]: { name: "rate limited", api: { kind: "refuse", status: SANDBOX_CODES.tooManyRequests }, callbacks: [] },
  [E.insufficientBalance]: { name: "insufficient balance", api: { kind: "refuse", status: SANDBOX_CODES.insufficientBalance }, callbacks: [] },
  [E.answerLost]: { name: "answer lost", api: { kind: "lose-answer" }, callbacks: COMPLETED_CALL },
};

export function scenarioFor(phoneNumber: string): Scenario {
  const digits = phoneNumber.replace(/\D/g, "");
  return SCENARIOS[digits.slice(-4)] ?? DEFAULT_SCENARIO;
}

export interface ScenarioDescription {
  /** Last four digits, or "other" for the default. */
  readonly suffix: string;
  readonly name: string;
  readonly send: "accepted" | "rejected" | "ambiguous";
  /** Pushed events with their raw codes, e.g. ["dialing 100", "failed 486"]. */
  readonly callbacks: readonly string[];
  readonly finalState: keyof typeof CallState;
  readonly failureReason: keyof typeof FailureReason;
}

/** The table in plain terms, for README and the CLI. */
export function describeScenarios(): ScenarioDescription[] {
  const rows: [string, Scenario][] = [...Object.entries(SCENARIOS), ["other", DEFAULT_SCENARIO]];
  return rows.map(([suffix, scenario]) => describe(suffix, scenario));
}

function describe(suffix: string, scenario: Scenario): ScenarioDescription {
  const callbacks = scenario.callbacks.map((c) => `${c.event} ${c.status.code}`);
  if (scenario.api.kind === "refuse") {
    return {
      suffix,
      name: scenario.name,
      send: "rejected",
      callbacks,
      finalState: "FAILED",
      failureReason: FailureReason[failureReasonForCode(scenario.api.status.code)] as keyof typeof FailureReason,
    };
  }
  const last = scenario.callbacks.at(-1);
  const finalState = last === undefined ? CallState.ACCEPTED : stateForEvent(last.event);
  const reason = last === undefined ? FailureReason.UNSPECIFIED : failureReasonForEvent(last.event, last.status.code);
  return {
    suffix,
    name: scenario.name,
    send: scenario.api.kind === "lose-answer" ? "ambiguous" : "accepted",
    callbacks,
    finalState: CallState[finalState] as keyof typeof CallState,
    failureReason: FailureReason[reason] as keyof typeof FailureReason,
  };
}

/**
 * The key an IVR callee presses in the sandbox (Notify with collect_key_press, on a call
 * that is answered): the number's last digit, so any key can be rehearsed; none for
 * numbers ending 0000 (the call completes without a key press).
 */
export function keyPressFor(phoneNumber: string): string {
  const digits = phoneNumber.replace(/\D/g, "");
  return digits.endsWith("0000") ? "" : digits.slice(-1);
}
