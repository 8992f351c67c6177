/**
 * The contract fakes' outcome tables, on the sandbox's endings. The called number's last
 * four digits choose what a fake does, and they mean the same outcome as in the sandbox
 * (src/providers/sandbox/scenarios.ts OUTCOME_ENDINGS, README "Sandbox outcomes"): 0001
 * is busy against the sandbox and against every fake. A fake plays each outcome the way
 * its provider reports it (a Tencent failure_code, a Kingsoft DH: code, a Huawei hang-up
 * cause); where a provider cannot report an outcome at all, its row says so in `differs`.
 *
 * Outcomes the sandbox does not have get endings from 0010 on (FAKE_ONLY_ENDINGS), each
 * with one meaning across all fakes, never one of the sandbox's. test/fakes/outcomes.test.ts
 * checks the tables agree; test/e2e/providers.test.ts that each fake does what its table says.
 */
import type { FailureReason } from "../../src/core/model.js";
import { OUTCOME_ENDINGS, describeScenarios } from "../../src/providers/sandbox/scenarios.js";

export { OUTCOME_ENDINGS };

export interface OutcomeMeaning {
  readonly name: string;
  /** What Send returns: accepted, rejected (refused, no call) or ambiguous (answer lost). */
  readonly send: "accepted" | "rejected" | "ambiguous";
  /** The call's state once every push of the call is stored. */
  readonly finalState: "PENDING" | "ACCEPTED" | "COMPLETED" | "FAILED";
  readonly failureReason: keyof typeof FailureReason;
}

export interface FakeOutcome extends OutcomeMeaning {
  /** What the fake does, in its provider's terms, for the printed table. */
  readonly does: string;
  /** Why this fake cannot end like the sandbox for a shared ending; only then set. */
  readonly differs?: string;
}

/** Ending (last four digits, or "other") -> what the fake does. */
export type FakeOutcomeTable = Readonly<Record<string, FakeOutcome>>;

/** Outcomes some fakes have and the sandbox lacks; endings never used for anything else. */
export const FAKE_ONLY_ENDINGS = {
  suspended: "0010",
  blocked: "0011",
  providerError: "0012",
  noStatusPush: "0013",
  noAnswerNumericCode: "0014",
  refusedInvalidNumber: "0015",
} as const;

const F = FAKE_ONLY_ENDINGS;

/** What each fake-only ending means. */
export const FAKE_ONLY_MEANINGS: Readonly<Record<string, OutcomeMeaning>> = {
  [F.suspended]: { name: "suspended", send: "accepted", finalState: "FAILED", failureReason: "SUSPENDED" },
  [F.blocked]: { name: "blocked", send: "accepted", finalState: "FAILED", failureReason: "BLOCKED" },
  [F.providerError]: { name: "provider error", send: "accepted", finalState: "FAILED", failureReason: "PROVIDER_ERROR" },
  [F.noStatusPush]: { name: "no status push", send: "accepted", finalState: "ACCEPTED", failureReason: "UNSPECIFIED" },
  [F.noAnswerNumericCode]: { name: "no answer (numeric code)", send: "accepted", finalState: "FAILED", failureReason: "NO_ANSWER" },
  [F.refusedInvalidNumber]: { name: "invalid number (refused by the API)", send: "rejected", finalState: "FAILED", failureReason: "INVALID_NUMBER" },
};

/** The sandbox's rows, by ending ("other" included), as the shared meanings. */
export function sandboxMeanings(): Readonly<Record<string, OutcomeMeaning>> {
  return Object.fromEntries(
    describeScenarios().map((row) => [
      row.suffix,
      { name: row.name, send: row.send, finalState: row.finalState as OutcomeMeaning["finalState"], failureReason: row.failureReason },
    ]),
  );
}

/** The ending a number selects in a table: its last four digits, or "other". */
export function outcomeFor(table: FakeOutcomeTable, phoneNumber: string): string {
  const ending = phoneNumber.replace(/\D/g, "").slice(-4);
  return Object.hasOwn(table, ending) ? ending : "other";
}

/** The table as printed by `npm run fake`, one line per ending. */
export function renderOutcomeTable(table: FakeOutcomeTable): string[] {
  const rows = Object.entries(table).map(([ending, o]) => {
    const ends = o.finalState === "FAILED" ? `FAILED ${o.failureReason}` : o.finalState;
    return [ending, o.name, o.send, o.does, o.differs === undefined ? ends : `${ends} (${o.differs})`];
  });
  return [
    "| last 4 | outcome | Send | what the fake does | ends as |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}
