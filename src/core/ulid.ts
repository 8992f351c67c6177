/**
 * ULIDs (26 Crockford base32 characters: 48 bits of milliseconds, 80 random bits) made
 * from a pool of random bytes. The ulid package draws one crypto random byte per
 * character; that was about 7 % of Send's CPU. Here one randomBytes() call serves 409
 * ids, and the 80 bits are encoded five bits at a time.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RANDOM_BYTES = 10;
const MAX_TIME = 2 ** 48 - 1;

export interface UlidOptions {
  readonly now?: () => number;
  /** n cryptographically random bytes. Default node:crypto's randomBytes. */
  readonly random?: (n: number) => Uint8Array;
  /** Bytes drawn at a time; a multiple of 10. Default 4 090. */
  readonly poolSize?: number;
}

export function createUlid(options: UlidOptions = {}): () => string {
  const now = options.now ?? Date.now;
  const random = options.random ?? randomBytes;
  const poolSize = options.poolSize ?? 4090;
  if (poolSize < RANDOM_BYTES || poolSize % RANDOM_BYTES !== 0) throw new Error("ulid: poolSize must be a multiple of 10");
  let pool: Uint8Array = new Uint8Array(0);
  let at = 0;

  return () => {
    if (at + RANDOM_BYTES > pool.length) {
      pool = random(poolSize);
      at = 0;
    }
    let time = now();
    if (!Number.isInteger(time) || time < 0 || time > MAX_TIME) throw new Error(`ulid: time ${time} out of range`);
    let id = "";
    for (let i = 0; i < 10; i++) {
      id = ALPHABET[time % 32] + id;
      time = Math.floor(time / 32);
    }
    // Two groups of 5 bytes = 40 bits = 8 characters each; 40 bits fit a double exactly.
    for (let g = 0; g < 2; g++) {
      let bits = 0;
      for (let i = 0; i < 5; i++) bits = bits * 256 + (pool[at++] as number);
      let chunk = "";
      for (let i = 0; i < 8; i++) {
        chunk = ALPHABET[bits % 32] + chunk;
        bits = Math.floor(bits / 32);
      }
      id += chunk;
    }
    return id;
  };
}

/** The process's generator for call and sandbox ids. */
export const ulid: () => string = createUlid();
