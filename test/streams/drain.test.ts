import { describe, expect, it } from "vitest";
import { createWatchDrain } from "../../src/streams/drain.js";

describe("watch drain switch", () => {
  it("wakes every registered watch once when draining starts, and none removed before", () => {
    const drain = createWatchDrain();
    const woken: string[] = [];
    const a = () => woken.push("a");
    const b = () => woken.push("b");
    drain.add(a);
    drain.add(b);
    drain.delete(b);
    expect(drain.draining).toBe(false);
    drain.start();
    expect(drain.draining).toBe(true);
    expect(woken).toEqual(["a"]);
    expect(drain.size).toBe(1);
  });

  it("wakes a watch registered after draining started at once", () => {
    const drain = createWatchDrain();
    drain.start();
    let woken = 0;
    drain.add(() => woken++);
    expect(woken).toBe(1);
  });
});
