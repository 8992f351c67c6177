import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FailureReason } from "../../src/core/model.js";
import { parseRoutes } from "../../src/routing/parse-routes.js";
import { createRouteTable } from "../../src/routing/route-table.js";

const usable = ["sandbox", "tencent", "kingsoft", "huawei", "ytx"];

describe("routing table", () => {
  it("matches the longest prefix", () => {
    const r = parseRoutes({ inline: "+86=tencent,huawei,ytx; +861=kingsoft,tencent,huawei", file: undefined }, usable);
    expect(r.ok).toBe(true);
    if (!r.ok || r.routes === undefined) return;
    const table = createRouteTable(r.routes);
    expect(table.match("+8613711112222")?.providers).toEqual(["kingsoft", "tencent", "huawei"]);
    expect(table.match("+861012345678")?.providers).toEqual(["kingsoft", "tencent", "huawei"]);
    expect(table.match("+862112345678")?.providers).toEqual(["tencent", "huawei", "ytx"]);
    expect(table.match("+14155550100")).toBeUndefined();
  });

  it('treats "+" as the catch-all', () => {
    const r = parseRoutes({ inline: "+=sandbox;+86=tencent", file: undefined }, usable);
    if (!r.ok || r.routes === undefined) throw new Error("parse failed");
    expect(createRouteTable(r.routes).match("+14155550100")?.providers).toEqual(["sandbox"]);
  });

  it("is absent without configuration", () => {
    expect(parseRoutes({ inline: undefined, file: undefined }, usable)).toEqual({ ok: true, routes: undefined });
  });

  it("lists every bad entry", () => {
    const r = parseRoutes({ inline: "86=tencent;+86=nope,tencent,tencent;+86=huawei;+1=", file: undefined }, usable);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('routes.0.prefix: must be "+" and up to 15 digits'),
        expect.stringContaining("routes.3.providers"),
      ]),
    );
    const semantic = parseRoutes({ inline: "+86=nope,tencent,tencent;+86=huawei", file: undefined }, usable);
    expect(semantic.ok).toBe(false);
    if (semantic.ok) return;
    expect(semantic.errors).toEqual([
      'VOICECODE_ROUTES: routes.0 (+86): provider "nope" is not usable; usable: sandbox, tencent, kingsoft, huawei, ytx',
      'VOICECODE_ROUTES: routes.0 (+86): provider "tencent" listed twice',
      "VOICECODE_ROUTES: routes.1 (+86): prefix listed twice",
    ]);
  });

  it("reads the JSON file form with outcome fallback options", () => {
    const dir = mkdtempSync(join(tmpdir(), "voicecode-routes-"));
    const file = join(dir, "routes.json");
    writeFileSync(
      file,
      JSON.stringify({
        routes: [
          { prefix: "+861", providers: ["kingsoft", "tencent"], fallback: { on: ["BUSY"], maxAttempts: 3 } },
          { prefix: "+86", providers: ["tencent"], fallback: true },
          { prefix: "+", providers: ["sandbox"] },
        ],
      }),
    );
    const r = parseRoutes({ inline: undefined, file }, usable);
    if (!r.ok || r.routes === undefined) throw new Error(JSON.stringify(r));
    expect(r.routes[0]?.fallback).toEqual({ on: [FailureReason.BUSY], maxAttempts: 3, deadlineMs: 600_000 });
    expect(r.routes[1]?.fallback?.on).toEqual([
      FailureReason.BUSY,
      FailureReason.NO_ANSWER,
      FailureReason.UNREACHABLE,
      FailureReason.POWERED_OFF,
    ]);
    expect(r.routes[2]?.fallback).toBeUndefined();
  });

  it("reports an unreadable file and unknown keys", () => {
    expect(parseRoutes({ inline: undefined, file: "/nonexistent/routes.json" }, usable)).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^VOICECODE_ROUTES_FILE: .*ENOENT/)],
    });
    const r = parseRoutes({ inline: '{"routes":[{"prefix":"+86","providers":["tencent"],"weight":2}]}', file: undefined }, usable);
    expect(r.ok).toBe(false);
  });
});
