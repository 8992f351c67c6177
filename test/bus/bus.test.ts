/**
 * The local bus routes each notice to the watchers of its call and of its client
 * reference (within its tenant) only, and to the "every notice" subscribers.
 */
import { describe, expect, it } from "vitest";
import { type EventNotice, createLocalBus } from "../../src/bus/bus.js";

const notice = (sequence: number, callId: string, clientReference: string, tenant?: string): EventNotice =>
  tenant === undefined ? { sequence, callId, clientReference } : { sequence, callId, clientReference, tenant };

describe("local bus", () => {
  it("calls a call's subscribers for its notices only", () => {
    const bus = createLocalBus();
    const a: number[] = [];
    const b: number[] = [];
    bus.subscribeCall("A", (n) => a.push(n.sequence));
    bus.subscribeCall("B", (n) => b.push(n.sequence));
    bus.publish([notice(1, "A", "r", "t"), notice(2, "B", "r", "t"), notice(3, "A", "s", "u")]);
    expect(a).toEqual([1, 3]);
    expect(b).toEqual([2]);
  });

  it("calls a reference's subscribers for notices of that reference in their tenant only", () => {
    const bus = createLocalBus();
    const seen: string[] = [];
    bus.subscribeReference("t1", "ref", (n) => seen.push(`t1:${n.sequence}`));
    bus.subscribeReference("t2", "ref", (n) => seen.push(`t2:${n.sequence}`));
    bus.subscribeReference("t1", "other", (n) => seen.push(`t1-other:${n.sequence}`));
    bus.publish([notice(1, "A", "ref", "t1"), notice(2, "B", "ref", "t2"), notice(3, "C", "other", "t1"), notice(4, "D", "x", "t1")]);
    expect(seen).toEqual(["t1:1", "t2:2", "t1-other:3"]);
  });

  it("wakes every tenant's watchers of a reference for a notice without a tenant (an older replica's)", () => {
    const bus = createLocalBus();
    const seen: string[] = [];
    bus.subscribeReference("t1", "ref", () => seen.push("t1"));
    bus.subscribeReference("t2", "ref", () => seen.push("t2"));
    bus.subscribeReference("t1", "other", () => seen.push("other"));
    bus.publish([notice(1, "A", "ref")]);
    expect(seen.sort()).toEqual(["t1", "t2"]);
  });

  it("gives every notice to a plain subscriber", () => {
    const bus = createLocalBus();
    const all: number[] = [];
    bus.subscribe((n) => all.push(n.sequence));
    bus.subscribeCall("A", () => undefined);
    bus.publish([notice(1, "A", "r", "t"), notice(2, "B", "s", "u"), notice(3, "C", "r")]);
    expect(all).toEqual([1, 2, 3]);
  });

  it("counts every subscription, the same function twice included, and unsubscribes each once", () => {
    const bus = createLocalBus();
    const listener = () => undefined;
    const offs = [
      bus.subscribe(listener),
      bus.subscribe(listener),
      bus.subscribeCall("A", listener),
      bus.subscribeCall("A", listener),
      bus.subscribeReference("t", "r", listener),
      bus.subscribeReference("t", "r", listener),
    ];
    expect(bus.subscriberCount).toBe(6);
    const calls: number[] = [];
    bus.subscribeCall("A", (n) => calls.push(n.sequence));
    offs[2]?.();
    offs[2]?.(); // a second call of the same unsubscribe changes nothing
    expect(bus.subscriberCount).toBe(6);
    for (const off of offs) off();
    expect(bus.subscriberCount).toBe(1);
    bus.publish([notice(1, "A", "r", "t")]);
    expect(calls).toEqual([1]);
  });

  it("still calls the rest of a key's subscribers when one unsubscribes while being called", () => {
    const bus = createLocalBus();
    const seen: string[] = [];
    const offFirst = bus.subscribeCall("A", () => {
      seen.push("first");
      offFirst();
    });
    bus.subscribeCall("A", () => seen.push("second"));
    bus.publish([notice(1, "A", "r", "t")]);
    bus.publish([notice(2, "A", "r", "t")]);
    expect(seen).toEqual(["first", "second", "second"]);
    expect(bus.subscriberCount).toBe(1);
  });

  it("offers every notice to every subscriber when one throws, then throws the first error", () => {
    const bus = createLocalBus();
    const seen: string[] = [];
    bus.subscribeCall("A", (n) => {
      seen.push(`a${n.sequence}`);
      throw new Error(`boom ${n.sequence}`);
    });
    bus.subscribeCall("A", (n) => seen.push(`b${n.sequence}`));
    bus.subscribe((n) => seen.push(`all${n.sequence}`));
    expect(() => bus.publish([notice(1, "A", "r", "t"), notice(2, "A", "r", "t")])).toThrow("boom 1");
    expect(seen).toEqual(["all1", "a1", "b1", "all2", "a2", "b2"]);
  });

  it("forgets a key once its last subscriber is gone", () => {
    const bus = createLocalBus();
    for (let i = 0; i < 100; i++) bus.subscribeCall(`C${i}`, () => undefined)();
    for (let i = 0; i < 100; i++) bus.subscribeReference("t", `R${i}`, () => undefined)();
    expect(bus.subscriberCount).toBe(0);
    expect(bus.keyCount).toBe(0);
  });
});
