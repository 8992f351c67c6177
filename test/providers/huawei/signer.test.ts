import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HUAWEI_AUTHORIZATION, akskHeaders, createNonce, formatCreated, passwordDigest } from "../../../src/providers/huawei/signer.js";
import { verifyHuaweiAuth } from "../../fakes/huawei.js";

const CREDENTIALS = { appKey: "ZRBRz4bAXoFgEH7o4Ew308eXc1RA", appSecret: "testAppSecret" };
const AT = Date.UTC(2018, 1, 12, 15, 30, 20);

describe("huawei signer", () => {
  it("reproduces the PasswordDigest vector (providers.md 2.2)", () => {
    expect(passwordDigest("testAppSecret", "66C92B11FF8A425FB8D4CCFE0ED9ED1F", "2018-02-12T15:30:20Z")).toBe(
      "WBB1hvMeB3Jl0Ec6loHZF1S11I0U+uSzEApiinumrZk=",
    );
  });

  it("formats Created as true UTC to the second", () => {
    expect(formatCreated(AT + 789)).toBe("2018-02-12T15:30:20Z");
    // 00:30 in Beijing on the 13th is still the 12th in UTC.
    expect(formatCreated(Date.parse("2018-02-13T00:30:05+08:00"))).toBe("2018-02-12T16:30:05Z");
  });

  it("builds the two headers exactly as documented", () => {
    const headers = akskHeaders({ ...CREDENTIALS, nonce: "66C92B11FF8A425FB8D4CCFE0ED9ED1F", created: "2018-02-12T15:30:20Z" });
    expect(headers).toEqual({
      authorization: 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"',
      "x-aksk":
        'UsernameToken Username="ZRBRz4bAXoFgEH7o4Ew308eXc1RA",PasswordDigest="WBB1hvMeB3Jl0Ec6loHZF1S11I0U+uSzEApiinumrZk=",' +
        'Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F",Created="2018-02-12T15:30:20Z"',
    });
    expect(HUAWEI_AUTHORIZATION).toBe(headers.authorization);
  });

  it("makes fresh 32-hex-digit nonces", () => {
    const a = createNonce();
    expect(a).toMatch(/^[0-9A-F]{32}$/);
    expect(createNonce()).not.toBe(a);
  });

  it("passes the fake's independent verification for any input, and fails it once tampered", () => {
    const input = fc.record({
      appKey: fc.stringMatching(/^[A-Za-z0-9]{1,40}$/),
      appSecret: fc.string({ minLength: 1, maxLength: 64 }),
      nonce: fc.stringMatching(/^[A-Za-z0-9]{1,128}$/),
      atMs: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }),
      skewMs: fc.integer({ min: -290_000, max: 290_000 }),
    });
    fc.assert(
      fc.property(input, ({ appKey, appSecret, nonce, atMs, skewMs }) => {
        const headers = akskHeaders({ appKey, appSecret, nonce, created: formatCreated(atMs) });
        const serverNow = atMs + skewMs;
        expect(verifyHuaweiAuth(headers, { appKey, appSecret }, serverNow)).toBeUndefined();
        // Another secret, or a nonce changed after signing: the digest no longer matches.
        expect(verifyHuaweiAuth(headers, { appKey, appSecret: `${appSecret}x` }, serverNow)?.code).toBe("1023006");
        const tampered = { ...headers, "x-aksk": headers["x-aksk"].replace(`Nonce="${nonce}"`, `Nonce="${nonce}0"`) };
        expect(verifyHuaweiAuth(tampered, { appKey, appSecret }, serverNow)?.code).toBe("1023006");
      }),
      { numRuns: 200 },
    );
  });
});

describe("the fake's header checks", () => {
  const good = akskHeaders({ ...CREDENTIALS, nonce: "ABC123", created: formatCreated(AT) });
  const check = (headers: Record<string, string | undefined>, nowMs = AT) => verifyHuaweiAuth(headers, CREDENTIALS, nowMs)?.code;

  it.each([
    ["no Authorization", { authorization: undefined }, "1023006"],
    ["realm missing", { authorization: 'AKSK profile="UsernameToken",type="Appkey"' }, "1023007"],
    ["profile missing", { authorization: 'AKSK realm="SDP",type="Appkey"' }, "1023008"],
    ["realm wrong", { authorization: 'AKSK realm="WSSE",profile="UsernameToken",type="Appkey"' }, "1023009"],
    ["profile wrong", { authorization: 'AKSK realm="SDP",profile="Token",type="Appkey"' }, "1023010"],
    ["type wrong", { authorization: 'AKSK realm="SDP",profile="UsernameToken",type="AppKey"' }, "1023011"],
    ["type missing", { authorization: 'AKSK realm="SDP",profile="UsernameToken"' }, "1023012"],
    ["no X-AKSK", { "x-aksk": undefined }, "1023033"],
    ["Username missing", { "x-aksk": good["x-aksk"].replace(/Username="[^"]*",/, "") }, "1023034"],
    ["Nonce missing", { "x-aksk": good["x-aksk"].replace(/,Nonce="[^"]*"/, "") }, "1023035"],
    ["another app key", { "x-aksk": good["x-aksk"].replace(CREDENTIALS.appKey, "OtherKey") }, "1023006"],
    ["Created with milliseconds", { "x-aksk": good["x-aksk"].replace("15:30:20Z", "15:30:20.000Z") }, "1023006"],
  ])("rejects %s", (_name, change, code) => {
    expect(check({ ...good, ...change })).toBe(code);
  });

  it("accepts Created within five minutes of its clock and rejects it beyond", () => {
    expect(check(good, AT + 299_000)).toBeUndefined();
    expect(check(good, AT - 299_000)).toBeUndefined();
    expect(check(good, AT + 301_000)).toBe("1023006");
    expect(check(good, AT - 301_000)).toBe("1023006");
  });
});
