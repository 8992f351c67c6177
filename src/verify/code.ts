/**
 * Generated verification codes. Each digit comes from one random byte by rejection
 * sampling: bytes 250..255 are drawn again, so every digit has exactly 25 of the 250
 * accepted values (a plain `byte % 10` would favour 0-5, 26 bytes against 25). The byte
 * source is injectable so the uniformity test runs on a fixed seed; production draws from
 * the operating system's CSPRNG.
 */
import { randomBytes } from "node:crypto";

/** Fills a new buffer of `size` random bytes. */
export type RandomBytes = (size: number) => Uint8Array;

/** Makes a code of `length` digits. Never log, store or return what it makes. */
export type CodeGenerator = (length: number) => string;

/** The largest multiple of 10 that fits in a byte: bytes at or above it are redrawn. */
const ACCEPT_BELOW = 250;

export function createCodeGenerator(random: RandomBytes = randomBytes): CodeGenerator {
  return (length) => {
    let code = "";
    while (code.length < length) {
      // A few spare bytes per draw: about 2.3% of bytes are rejected.
      for (const byte of random(length - code.length + 2)) {
        if (byte >= ACCEPT_BELOW) continue;
        code += String(byte % 10);
        if (code.length === length) break;
      }
    }
    return code;
  };
}

export const defaultCodeGenerator: CodeGenerator = createCodeGenerator();
