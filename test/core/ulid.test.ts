import { decodeTime } from "ulid";
import { describe, expect, it } from "vitest";
import { createUlid } from "../../src/core/ulid.js";

const FORMAT = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe("ulid", () => {
  it("writes the time in the first 10 characters and the random bytes in the last 16", () => {
    const ulid = createUlid({ now: () => 1_469_918_176_385, random: (n) => Buffer.alloc(n, 0xff) });
    // The time of the ULID spec's example; 80 bits of ones are 16 Zs.
    expect(ulid()).toBe("01ARYZ6S41ZZZZZZZZZZZZZZZZ");
  });

  it("encodes the random bytes in order, five bits per character", () => {
    const bytes = Buffer.from([0x00, 0x44, 0x32, 0x14, 0xc7, 0x42, 0x54, 0xb6, 0x35, 0xcf]);
    const ulid = createUlid({ now: () => 0, random: () => bytes });
    // Read as 5-bit groups these bytes are 0, 1, 2, … 15.
    expect(ulid()).toBe("0000000000" + "0123456789ABCDEF");
  });

  it("draws the random bytes from a pool, refilled when used up, never reusing bytes", () => {
    let draws = 0;
    let counter = 0;
    const ulid = createUlid({
      now: () => Date.now(),
      random: (n) => {
        draws++;
        return Buffer.from(Array.from({ length: n }, () => counter++ & 0xff));
      },
      poolSize: 40,
    });
    const ids = Array.from({ length: 9 }, () => ulid());
    expect(draws).toBe(3); // 4 ids per pool of 40 bytes
    expect(new Set(ids.map((id) => id.slice(10))).size).toBe(9);
  });

  it("makes ids the ulid package reads back, unique and in time order", () => {
    let t = 1_700_000_000_000;
    const ulid = createUlid({ now: () => t });
    const ids: string[] = [];
    for (let i = 0; i < 2000; i++) {
      if (i % 100 === 0) t++;
      ids.push(ulid());
    }
    for (const id of ids) expect(id).toMatch(FORMAT);
    expect(decodeTime(ids[0] as string)).toBe(1_700_000_000_001);
    expect(new Set(ids).size).toBe(ids.length);
    const times = ids.map((id) => id.slice(0, 10));
    expect([...times].sort()).toEqual(times);
  });
});
