import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalQuery,
  formBody,
  formatTimestamp,
  percentEncode,
  signCanonical,
  signRequest,
} from "../../../src/providers/kingsoft/signer.js";
import { kingsoftFakeParseForm, kingsoftFakeSignatureValid } from "../../fakes/kingsoft.js";

// The doc's own example (签名计算完整样例), with the parameters as the doc lists them.
const DOC_PARAMS = {
  Mobile: "1xxxx",
  TplId: "1",
  Code: "123456",
  PlayTimes: "1",
  Action: "CallVerify",
  Version: "2020-05-01",
  SignatureVersion: "1.0",
  SignatureMethod: "HMAC-SHA256",
  Timestamp: "2020-04-15T14:58:22Z",
  Service: "voice",
  Accesskey: "AKxxx",
};
const DOC_CANONICAL =
  "Accesskey=AKxxx&Action=CallVerify&Code=123456&Mobile=1xxxx&PlayTimes=1&Service=voice&SignatureMethod=HMAC-SHA256&SignatureVersion=1.0&Timestamp=2020-04-15T14%3A58%3A22Z&TplId=1&Version=2020-05-01";
const DOC_SIGNATURE = "b28616f50f00380341a647c73101a459d8119c9d4a98fcff5fa4a023f82ef229";

describe("kingsoft signer: the doc's vector", () => {
  it("builds the doc's canonical string and reproduces its signature", () => {
    expect(canonicalQuery(DOC_PARAMS)).toBe(DOC_CANONICAL);
    expect(signCanonical(DOC_CANONICAL, "SKxxx")).toBe(DOC_SIGNATURE);
  });

  it("signRequest adds the common parameters and reproduces the vector at the doc's time", () => {
    const params = signRequest({
      accessKey: "AKxxx",
      secretKey: "SKxxx",
      action: "CallVerify",
      timestampMs: Date.UTC(2020, 3, 15, 14, 58, 22, 731),
      business: { Mobile: "1xxxx", TplId: "1", Code: "123456", PlayTimes: "1" },
    });
    expect(params).toEqual({ ...DOC_PARAMS, Signature: DOC_SIGNATURE });
  });

  it("only reproduces with the doc's short Mobile and the Accesskey spelling", () => {
    // The doc's parameter listing says 1xxxxxxxxxx but its canonical string says 1xxxx.
    expect(signCanonical(canonicalQuery({ ...DOC_PARAMS, Mobile: "1xxxxxxxxxx" }), "SKxxx")).toBe(
      "ed2d3f2a1ca28c11eba4f854edfaaa375f1bfb1740a66f7ef699800a2ac9b4e8",
    );
    const { Accesskey, ...rest } = DOC_PARAMS;
    expect(signCanonical(canonicalQuery({ ...rest, AccessKey: Accesskey }), "SKxxx")).toBe(
      "f84da1c54403f33ab3825c452cfd0f1ddde0f5a5a2430f9d55dfec3ac85eae4c",
    );
  });

  it("leaves an existing Signature out of the canonical string", () => {
    expect(canonicalQuery({ ...DOC_PARAMS, Signature: "stale" })).toBe(DOC_CANONICAL);
  });

  it("adds Region only when set, and it is signed", () => {
    const input = { accessKey: "AK", secretKey: "SK", action: "CallVerify", timestampMs: 0, business: {} };
    const without = signRequest(input);
    const withRegion = signRequest({ ...input, region: "cn-beijing-6" });
    expect(without).not.toHaveProperty("Region");
    expect(withRegion.Region).toBe("cn-beijing-6");
    expect(withRegion.Signature).not.toBe(without.Signature);
  });
});

describe("kingsoft signer: encoding and time", () => {
  it.each([
    ["2020-04-15T14:58:22Z", "2020-04-15T14%3A58%3A22Z"],
    ["a b", "a%20b"],
    ["a+b", "a%2Bb"],
    ["*", "%2A"],
    ["~-_.", "~-_."],
    ["!'()", "%21%27%28%29"],
    ["中", "%E4%B8%AD"],
    ["/=&%", "%2F%3D%26%25"],
  ])("percent-encodes %j as %j", (raw, encoded) => {
    expect(percentEncode(raw)).toBe(encoded);
  });

  it("sorts names in byte order (upper case before lower case)", () => {
    expect(canonicalQuery({ b: "1", B: "2", a: "3", _: "4" })).toBe("B=2&_=4&a=3&b=1");
  });

  it("formats Timestamp in UTC without milliseconds", () => {
    expect(formatTimestamp(Date.UTC(2020, 7, 13, 17, 18, 36, 999))).toBe("2020-08-13T17:18:36Z");
  });
});

describe("kingsoft signer against the fake's independent verification", () => {
  const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,11}$/).filter((k) => k !== "Signature");
  const value = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.constantFrom("a b+c", "*~!'()", "100%", "x=y&z", "验证码", "😀", "2020-04-15T14:58:22Z"),
  );
  const input = fc.record({
    business: fc.dictionary(name, value, { maxKeys: 8 }),
    accessKey: fc.stringMatching(/^[A-Za-z0-9]{1,24}$/),
    secretKey: fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
    timestampMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  });

  it("the fake accepts every signed body and rejects a tampered one", () => {
    fc.assert(
      fc.property(input, fc.nat(), (i, pick) => {
        const params = signRequest({ ...i, action: "CallVerify" });
        const decoded = kingsoftFakeParseForm(formBody(params));
        expect(decoded).toBeDefined();
        expect(kingsoftFakeSignatureValid(decoded!, i.secretKey)).toBe(true);

        // Any one changed value, including the signature itself, must fail.
        const keys = [...decoded!.keys()];
        const key = keys[pick % keys.length]!;
        const tampered = new Map(decoded);
        tampered.set(key, `${tampered.get(key)}x`);
        expect(kingsoftFakeSignatureValid(tampered, i.secretKey)).toBe(false);
        expect(kingsoftFakeSignatureValid(decoded!, `${i.secretKey}x`)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
