/**
 * Property tests of the store's state rules, for every engine: whatever order, batching,
 * duplication and timing (before or after the Send result) provider pushes arrive in, a
 * call's history only ever moves forward and storing everything again changes nothing.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../src/core/model.js";
import type { InboundEvent } from "../../src/core/provider.js";
import { isTerminal, stateRank } from "../../src/core/states.js";
import type { Store } from "../../src/store/store.js";

const LIFECYCLE = [CallState.DIALING, CallState.RINGING, CallState.ANSWERED] as const;
const TERMINALS = [CallState.COMPLETED, CallState.FAILED] as const;

/** A scenario: which pushes exist, their arrival order, batches, and when Send answered. */
const scenario = fc
  .record({
    lifecycle: fc.subarray([...LIFECYCLE]),
    terminals: fc.subarray([...TERMINALS]),
    echo: fc.boolean(),
    duplicates: fc.nat({ max: 3 }),
    seed: fc.integer(),
    batchSize: fc.integer({ min: 1, max: 4 }),
    acceptAfterBatch: fc.nat({ max: 6 }),
  })
  .map((s) => ({ ...s, states: [...s.lifecycle, ...s.terminals] }));

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let x = seed | 1;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = Math.abs(x) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export function describeStoreProperties(name: string, open: () => Promise<Store>): void {
  describe(`Store properties: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => store.close());

    it("histories only move forward, end in the best state seen, and are idempotent", async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          const u = randomUUID();
          const callId = `p-${u}`;
          const providerCallId = `pc-${u}`;
          await store.createCall({
            callId,
            provider: "prop",
            phoneMasked: "+86*******0000",
            playTimes: 2,
            clientReference: `ref-${u}`,
            metadata: {},
            idempotencyKey: "",
            requestHash: "h",
            nowMs: 1,
          });
          const pushes: InboundEvent[] = s.states.map((state, i) => ({
            dedupeKey: `${u}:${state}`,
            providerCallId,
            callId: s.echo ? callId : undefined,
            state,
            failureReason: state === CallState.FAILED ? FailureReason.BUSY : FailureReason.UNSPECIFIED,
            providerCode: String(i),
            providerText: "",
            occurredAtMs: undefined,
          }));
          const copies = pushes.flatMap((p, i) => (i < s.duplicates ? [p, p] : [p]));
          const arrival = shuffle(copies, s.seed);
          const batches: InboundEvent[][] = [];
          for (let i = 0; i < arrival.length; i += s.batchSize) batches.push(arrival.slice(i, i + s.batchSize));

          let accepted = false;
          const accept = async () => {
            accepted = true;
            await store.recordSendResult(
              callId,
              { kind: "accepted", providerCallId, providerCode: "0", providerText: "" },
              2,
            );
          };
          for (const [i, batch] of batches.entries()) {
            if (i === s.acceptAfterBatch) await accept();
            await store.ingest("prop", batch, 3 + i);
          }
          if (!accepted) await accept();

          const events = await store.listEvents({ callId }, 0, 100);
          const ranks = events.map((e) => stateRank(e.state));
          for (let i = 1; i < ranks.length; i++) expect(ranks[i]).toBeGreaterThan(ranks[i - 1] as number);
          expect(events.filter((e) => isTerminal(e.state)).length).toBeLessThanOrEqual(1);

          const call = await store.getCall(callId);
          expect(call?.state).toBe(events.at(-1)?.state);
          expect(call?.providerCallId).toBe(providerCallId);
          const best = Math.max(stateRank(CallState.ACCEPTED), ...s.states.map(stateRank));
          expect(stateRank(call?.state ?? CallState.UNSPECIFIED)).toBe(best);
          if (call?.state === CallState.FAILED) expect(call.failureReason).toBe(FailureReason.BUSY);

          // Providers retry everything: nothing may change.
          const again = await store.ingest("prop", arrival, 99);
          expect(again.appended).toEqual([]);
          expect(again.duplicates).toBe(arrival.length);
          expect(await store.listEvents({ callId }, 0, 100)).toEqual(events);
        }),
        { numRuns: 150 },
      );
    });
  });
}
