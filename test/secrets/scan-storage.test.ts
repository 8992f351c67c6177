/** The storage scan (test/support/scan-storage.ts) must find what it is meant to find. */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { dumpSqlite, findLeaks, rawSqliteFiles } from "../support/scan-storage.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "voicecode-scan-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const secrets = { phones: ["+8613711112222"], codes: ["583920"], plaintexts: { "fingerprint input": '["x","y"]' } };
const at = (value: string) => [{ table: "t", column: "c", value }];
const digest = (alg: string, text: string) => createHash(alg).update(text).digest();

describe("storage scan", () => {
  it("finds the number in clear, with or without + and as a national number", () => {
    expect(findLeaks(at("call to +8613711112222"), secrets)).not.toEqual([]);
    expect(findLeaks(at("8613711112222"), secrets)).not.toEqual([]);
    expect(findLeaks(at('{"to":"13711112222"}'), secrets)).not.toEqual([]);
    expect(findLeaks(at("+86*******2222"), secrets)).toEqual([]);
  });

  it("finds the code as a standalone value only", () => {
    expect(findLeaks(at("583920"), secrets)).not.toEqual([]);
    expect(findLeaks(at('{"code":"583920"}'), secrets)).not.toEqual([]);
    expect(findLeaks(at("your code is 583920."), secrets)).not.toEqual([]);
    expect(findLeaks(at("1700000583920123"), secrets)).toEqual([]);
    expect(findLeaks(at("01JDX583920ABC"), secrets)).toEqual([]);
  });

  it("finds unkeyed digests in hex (either case), base64 and base64url", () => {
    expect(findLeaks(at(digest("sha256", "583920").toString("hex")), secrets)).not.toEqual([]);
    expect(findLeaks(at(digest("sha1", "+8613711112222").toString("hex").toUpperCase()), secrets)).not.toEqual([]);
    expect(findLeaks(at(digest("md5", "8613711112222").toString("base64")), secrets)).not.toEqual([]);
    expect(findLeaks(at(`k1:${digest("sha256", '["x","y"]').toString("hex")}`), secrets)).not.toEqual([]);
    expect(findLeaks(at(digest("sha256", "583921").toString("hex")), secrets)).toEqual([]);
  });

  it("reads every column of every table, and the bytes of a row that was deleted", () => {
    const file = path.join(dir, "scan.db");
    const db = new Database(file);
    db.exec("CREATE TABLE a (x TEXT, y BLOB); CREATE TABLE b (z TEXT)");
    db.prepare("INSERT INTO a VALUES ('fine', ?)").run(digest("sha1", "583920"));
    db.prepare("INSERT INTO b VALUES ('to +8613711112222')").run();
    db.prepare("DELETE FROM b").run();
    db.close();
    expect(findLeaks(dumpSqlite(file), secrets)).toEqual(["a.y: sha1(code 583920)"]);
    expect(findLeaks(rawSqliteFiles(file), secrets).some((l) => l.includes("phone"))).toBe(true);
  });
});
