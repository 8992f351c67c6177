import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signYtxRequest, ytxAuthorization, ytxSign } from "../../../src/providers/ytx/signer.js";
import { verifyYtxAuth } from "../../fakes/ytx.js";

// providers.md 3.1, self-computed with Node's crypto and a public Python sample.
const VECTOR = {
  accountSid: "da5c0518f05c4f939de024e94c0adb6d",
  authToken: "8da2aede2f51498dab04e20b1702d111",
  timestamp: "20140416142030",
  sign: "6099701d8632ea5232d1536da94cd1b0",
  authorization: "ZGE1YzA1MThmMDVjNGY5MzlkZTAyNGU5NGMwYWRiNmR8MjAxNDA0MTYxNDIwMzA=",
};
const DAY_MS = 24 * 60 * 60 * 1000;

describe("ytx signer", () => {
  it("reproduces the documented vector, Sign in uppercase", () => {
    expect(ytxSign(VECTOR.accountSid, VECTOR.authToken, VECTOR.timestamp)).toBe(VECTOR.sign.toUpperCase());
    expect(ytxAuthorization(VECTOR.accountSid, VECTOR.timestamp)).toBe(VECTOR.authorization);
  });

  // The seed's table says Base64(sid + "|" + timestamp); its worked example decodes to
  // sid + ":" + timestamp, but that example is cloopen's (another vendor) copied verbatim.
  // A public production integration of ytx sends "|": github.com/fanshuai/kubrick
  // (commit b7ed6588) server/voice/ytxz/action.py. Evidence in docs/providers.md (ytx) and
  // src/providers/ytx/signer.ts. Do not change "|" to ":" from the example.
  it('joins the account SID and the timestamp with "|", not the seed example\'s ":"', () => {
    const decoded = Buffer.from(ytxAuthorization(VECTOR.accountSid, VECTOR.timestamp), "base64").toString("utf8");
    expect(decoded).toBe(`${VECTOR.accountSid}|${VECTOR.timestamp}`);
    expect(decoded).not.toContain(":");
  });

  it('the contract fake refuses the ":" form with -202, as the table reads', () => {
    const at = Date.UTC(2014, 3, 16, 6, 20, 30);
    const signed = signYtxRequest(VECTOR, at);
    const colon = Buffer.from(`${VECTOR.accountSid}:${signed.timestamp}`, "utf8").toString("base64");
    const base = { accountSid: VECTOR.accountSid, authToken: VECTOR.authToken, sign: signed.sign, nowMs: at };
    expect(verifyYtxAuth({ ...base, authorization: signed.authorization })).toBe("ok");
    expect(verifyYtxAuth({ ...base, authorization: colon })).toBe("-202");
  });

  it("stamps both values with one Beijing-time timestamp", () => {
    // 06:20:30 UTC is 14:20:30 in Beijing.
    const signed = signYtxRequest(VECTOR, Date.UTC(2014, 3, 16, 6, 20, 30));
    expect(signed).toEqual({
      timestamp: VECTOR.timestamp,
      sign: VECTOR.sign.toUpperCase(),
      authorization: VECTOR.authorization,
    });
  });

  it("rolls the Beijing date over at 16:00 UTC", () => {
    expect(signYtxRequest(VECTOR, Date.UTC(2023, 11, 31, 16, 0, 0)).timestamp).toBe("20240101000000");
    expect(signYtxRequest(VECTOR, Date.UTC(2023, 11, 31, 15, 59, 59)).timestamp).toBe("20231231235959");
  });
});

const sid = fc.stringMatching(/^[A-Za-z0-9]{1,40}$/);
const token = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);
const nowMs = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 0, 1) });

function tamper(hex: string, index: number): string {
  const i = index % hex.length;
  const replacement = hex[i] === "0" ? "1" : "0";
  return hex.slice(0, i) + replacement + hex.slice(i + 1);
}

describe("the fake's independent verification of the signer", () => {
  it("accepts what the signer produces, in either case, within 24 h", () => {
    fc.assert(
      fc.property(sid, token, nowMs, fc.integer({ min: -DAY_MS + 1000, max: DAY_MS - 1000 }), (s, t, at, skew) => {
        const signed = signYtxRequest({ accountSid: s, authToken: t }, at);
        const check = (sign: string) =>
          verifyYtxAuth({ accountSid: s, authToken: t, sign, authorization: signed.authorization, nowMs: at + skew });
        expect(check(signed.sign)).toBe("ok");
        expect(check(signed.sign.toLowerCase())).toBe("ok");
      }),
    );
  });

  it("rejects a tampered Sign, another token, a mismatched timestamp and a stale one", () => {
    fc.assert(
      fc.property(sid, token, nowMs, fc.nat(), (s, t, at, index) => {
        const signed = signYtxRequest({ accountSid: s, authToken: t }, at);
        const base = { accountSid: s, authToken: t, sign: signed.sign, authorization: signed.authorization, nowMs: at };
        expect(verifyYtxAuth({ ...base, sign: tamper(signed.sign, index) })).toBe("-203");
        expect(verifyYtxAuth({ ...base, authToken: `${t}x` })).toBe("-203");
        // Authorization from one second later: the Sign no longer covers its timestamp.
        const later = signYtxRequest({ accountSid: s, authToken: t }, at + 1000);
        expect(verifyYtxAuth({ ...base, authorization: later.authorization })).toBe("-203");
        expect(verifyYtxAuth({ ...base, nowMs: at + DAY_MS + 1000 })).toBe("-202");
        expect(verifyYtxAuth({ ...base, accountSid: `${s}0` })).toBe("-202");
        expect(verifyYtxAuth({ ...base, authorization: undefined })).toBe("-202");
      }),
    );
  });
});
