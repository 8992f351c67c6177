/**
 * One outcome table for the sandbox and every contract fake: a user who learned the
 * sandbox's endings (README "Sandbox outcomes") can drive any fake with them. That each
 * fake really does what its table says is checked end to end in test/e2e/providers.test.ts.
 */
import { describe, expect, it } from "vitest";
import { OUTCOME_ENDINGS, SCENARIOS } from "../../src/providers/sandbox/scenarios.js";
import { HUAWEI_FAKE_OUTCOMES } from "./huawei.js";
import { KINGSOFT_FAKE_OUTCOMES } from "./kingsoft.js";
import { FAKE_ONLY_ENDINGS, FAKE_ONLY_MEANINGS, type FakeOutcomeTable, outcomeFor, sandboxMeanings } from "./outcomes.js";
import { TENCENT_FAKE_OUTCOMES } from "./tencent.js";
import { YTX_FAKE_OUTCOMES } from "./ytx.js";

const FAKES: readonly (readonly [string, FakeOutcomeTable])[] = [
  ["tencent", TENCENT_FAKE_OUTCOMES],
  ["ytx", YTX_FAKE_OUTCOMES],
  ["kingsoft", KINGSOFT_FAKE_OUTCOMES],
  ["huawei", HUAWEI_FAKE_OUTCOMES],
];

const meaning = (o: { name: string; send: string; finalState: string; failureReason: string }) => ({
  name: o.name,
  send: o.send,
  finalState: o.finalState,
  failureReason: o.failureReason,
});

describe("the shared outcome endings", () => {
  it("are the sandbox's own table", () => {
    expect(Object.values(OUTCOME_ENDINGS).sort()).toEqual(Object.keys(SCENARIOS).sort());
  });

  it("fake-only endings collide with none of the sandbox's and are unique", () => {
    const extra = Object.values(FAKE_ONLY_ENDINGS);
    expect(new Set(extra).size).toBe(extra.length);
    for (const ending of extra) expect(Object.keys(SCENARIOS)).not.toContain(ending);
    expect(Object.keys(FAKE_ONLY_MEANINGS).sort()).toEqual([...extra].sort());
  });
});

describe.each(FAKES)("the %s fake's outcome table", (_name, table) => {
  const sandbox = sandboxMeanings();

  it("covers every sandbox ending, and the default", () => {
    for (const ending of Object.keys(sandbox)) expect(Object.keys(table), ending).toContain(ending);
  });

  it.each(Object.keys(sandbox))("means by %s what the sandbox means, or says why it cannot", (ending) => {
    const row = table[ending];
    const expected = sandbox[ending];
    expect(row?.name).toBe(expected?.name);
    if (row?.differs === undefined) {
      expect(meaning(row ?? ({} as never))).toEqual(expected);
    } else {
      // A divergence must be real (else drop `differs`) and explained.
      expect(meaning(row)).not.toEqual(expected);
      expect(row.differs.length).toBeGreaterThan(20);
    }
  });

  it("uses only fake-only endings beyond the sandbox's, each in its one meaning", () => {
    for (const [ending, row] of Object.entries(table)) {
      if (Object.hasOwn(sandbox, ending)) continue;
      expect(FAKE_ONLY_MEANINGS[ending], `ending ${ending}`).toBeDefined();
      expect(meaning(row)).toEqual(FAKE_ONLY_MEANINGS[ending]);
      expect(row.differs).toBeUndefined();
    }
  });

  it("picks rows by the last four digits of the number as dialled, defaulting to other", () => {
    expect(outcomeFor(table, "+8613711110001")).toBe("0001");
    expect(outcomeFor(table, "13711110001")).toBe("0001");
    expect(outcomeFor(table, "+8613711112222")).toBe("other");
  });
});
