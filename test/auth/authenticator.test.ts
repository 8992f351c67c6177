import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/auth/authenticator.js";
import { hashApiKey, newApiKey, parseKeysFile, parseKeysVariable } from "../../src/auth/keys.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-auth-"));
  dirs.push(dir);
  const file = path.join(dir, "keys");
  fs.writeFileSync(file, text);
  return file;
}

describe("authenticator", () => {
  const a1 = newApiKey();
  const a2 = newApiKey();
  const b = newApiKey();
  const entries = [
    { tenant: "alpha", hash: hashApiKey(a1) },
    { tenant: "alpha", hash: hashApiKey(a2) },
    { tenant: "beta", hash: hashApiKey(b) },
  ];

  it("maps each configured key to its tenant and refuses anything else", () => {
    const auth = createAuthenticator({ entries });
    expect(auth.open).toBe(false);
    expect(auth.authenticate(`Bearer ${a1}`)).toBe("alpha");
    expect(auth.authenticate(`bearer ${a2}`)).toBe("alpha");
    expect(auth.authenticate(`Bearer ${b}`)).toBe("beta");
    for (const bad of [undefined, "", a1, `Basic ${a1}`, `Bearer ${a1} extra`, `Bearer ${a1.slice(0, -1)}`, "Bearer "]) {
      expect(auth.authenticate(bad)).toBeUndefined();
    }
    expect(auth.tenants).toEqual(["alpha", "beta"]);
  });

  it("is open, as tenant default, with no keys at all; a keys file (even empty) closes it", () => {
    expect(createAuthenticator({ entries: [] }).authenticate(undefined)).toBe("default");
    const closed = createAuthenticator({ entries: [], file: tempFile("# nobody yet\n") });
    expect(closed.open).toBe(false);
    expect(closed.authenticate(`Bearer ${a1}`)).toBeUndefined();
  });

  it("re-reads a changed file after recheckMs (injected clock); a broken edit keeps the last keys", () => {
    const file = tempFile(`alpha ${hashApiKey(a1)}\n`);
    let now = 0;
    const problems: string[] = [];
    const auth = createAuthenticator({
      entries: [],
      file,
      recheckMs: 1_000,
      now: () => now,
      onReloadError: (p) => problems.push(p),
    });
    expect(auth.authenticate(`Bearer ${a1}`)).toBe("alpha");
    fs.writeFileSync(file, `# a1 revoked, a2 added\nalpha ${hashApiKey(a2)}\n`);
    now = 999;
    expect(auth.authenticate(`Bearer ${a1}`)).toBe("alpha");
    now = 1_000;
    expect(auth.authenticate(`Bearer ${a1}`)).toBeUndefined();
    expect(auth.authenticate(`Bearer ${a2}`)).toBe("alpha");
    fs.writeFileSync(file, `alpha ${a2}\n`);
    now = 2_000;
    expect(auth.authenticate(`Bearer ${a2}`)).toBe("alpha");
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain(a2);
  });
});

describe("key lists", () => {
  it("parses the variable (comma or newline) and the file (lines, comments)", () => {
    const h = hashApiKey("x");
    expect(parseKeysVariable(`a=${h}, b=${h}\nc ${h}`).entries.map((e) => e.tenant)).toEqual(["a", "b", "c"]);
    expect(parseKeysFile(`# comment\n\na ${h}  # trailing\n`).entries).toEqual([{ tenant: "a", hash: h }]);
  });

  it("lists every bad entry without echoing its value", () => {
    const key = newApiKey();
    const { errors } = parseKeysFile(`Bad ${hashApiKey("x")}\nok sha256:abc\nok ${key}\njustone\n`);
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatch(/^line 1: tenant name/);
    expect(errors[2]).toMatch(/^line 3: .*looks like a key/);
    expect(errors.join("\n")).not.toContain(key);
  });
});
