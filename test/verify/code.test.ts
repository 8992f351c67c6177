/**
 * Generated codes: the right length, digits only, and uniform digits. The uniformity
 * check is a chi-square test over 200 000 digits drawn from a seeded byte stream, so it
 * is deterministic; it also shows it can fail, on the biased `byte % 10` a naive
 * generator would use over the same bytes.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCodeGenerator, defaultCodeGenerator, type RandomBytes } from "../../src/verify/code.js";

/** A deterministic byte stream: SHA-256 in counter mode over a fixed seed. */
function seededBytes(seed: string): RandomBytes {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return (size) => {
    while (pool.length < size) {
      const block = createHash("sha256").update(`${seed}:${counter++}`).digest();
      pool = Buffer.concat([pool, block]);
    }
    const out = pool.subarray(0, size);
    pool = pool.subarray(size);
    return Uint8Array.from(out);
  };
}

/** Pearson's chi-square statistic of digit counts against a uniform distribution. */
function chiSquare(digits: string): number {
  const counts = new Array<number>(10).fill(0);
  for (const d of digits) counts[Number(d)] = (counts[Number(d)] ?? 0) + 1;
  const expected = digits.length / 10;
  return counts.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
}

/** Chi-square critical value for 9 degrees of freedom at p = 0.001. */
const CRITICAL_9_DF_P001 = 27.877;
const DRAWS = 25_000;
const LENGTH = 8;

describe("generated codes", () => {
  it("have the asked length and only digits, for every allowed length", () => {
    for (let length = 4; length <= 8; length++) {
      for (let i = 0; i < 200; i++) expect(defaultCodeGenerator(length)).toMatch(new RegExp(`^[0-9]{${length}}$`));
    }
  });

  it("have uniform digits (chi-square over 200 000 digits from a seeded source)", () => {
    const generate = createCodeGenerator(seededBytes("voicecode-uniformity"));
    let digits = "";
    for (let i = 0; i < DRAWS; i++) digits += generate(LENGTH);
    expect(digits).toHaveLength(DRAWS * LENGTH);
    expect(chiSquare(digits)).toBeLessThan(CRITICAL_9_DF_P001);
  });

  it("the same test rejects byte % 10 over the same bytes (modulo bias)", () => {
    const random = seededBytes("voicecode-uniformity");
    let digits = "";
    while (digits.length < DRAWS * LENGTH) for (const b of random(64)) digits += String(b % 10);
    expect(chiSquare(digits)).toBeGreaterThan(CRITICAL_9_DF_P001);
  });

  it("redraws the bytes 250..255 instead of folding them onto 0..5", () => {
    const bytes = [255, 250, 9, 251, 13, 7, 0, 249];
    let i = 0;
    const generate = createCodeGenerator((size) => Uint8Array.from({ length: size }, () => bytes[i++ % bytes.length] ?? 0));
    expect(generate(5)).toBe("93709");
  });
});
