import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Constant-time token check. Both sides are hashed first so the comparison takes the
 * same time whatever the presented token's length, and timingSafeEqual gets equal sizes.
 */
export function tokenMatches(expected: string, presented: string): boolean {
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(presented).digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}
