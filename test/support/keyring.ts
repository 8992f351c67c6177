import { randomBytes } from "node:crypto";
import { createKeyring, type Keyring } from "../../src/secrets/keyring.js";

/** A keyring under a fresh random secret, for stores and services in tests. */
export function testKeyring(): Keyring {
  return createKeyring(randomBytes(32));
}
