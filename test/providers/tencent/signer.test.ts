import fc from "fast-check";
import SdkSignModule from "tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js";
import { describe, expect, it } from "vitest";
import { buildSendCodeVoiceRequest } from "../../../src/providers/tencent/client.js";
import { signTc3, tc3Date } from "../../../src/providers/tencent/signer.js";
import { verifyTc3 } from "../../fakes/tencent.js";

// The CommonJS module's default export is the Sign class; native ESM interop may wrap it once more.
const SdkSign = ((SdkSignModule as { default?: unknown }).default ?? SdkSignModule) as typeof SdkSignModule.default;

/** Tencent's published CVM DescribeInstances example (doc "签名方法 v3"). */
const CVM = {
  host: "cvm.tencentcloudapi.com",
  contentType: "application/json; charset=utf-8",
  // Literal bytes, backslash-u escapes included, exactly as the doc hashes them.
  payload: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
  timestampSec: 1551113065,
  secretId: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
} as const;
const OLD_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const NEW_KEY = "Gu5t9xGARNpq86cd98joQYCN3*******";
const ACTION = { "x-tc-action": "DescribeInstances" };

describe("TC3-HMAC-SHA256 signer: published vectors", () => {
  it("hashes the payload and the canonical request like the doc", () => {
    const plain = signTc3({ ...CVM, secretKey: OLD_KEY });
    expect(plain.hashedRequestPayload).toBe("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
    expect(plain.canonicalRequest).toBe(
      "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n" +
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
    );
    expect(plain.hashedCanonicalRequest).toBe("5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
    expect(plain.credentialScope).toBe("2019-02-25/cvm/tc3_request");
    expect(plain.stringToSign).toBe(
      "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
    );
    const withAction = signTc3({ ...CVM, secretKey: NEW_KEY, extraSignedHeaders: ACTION });
    expect(withAction.signedHeaders).toBe("content-type;host;x-tc-action");
    expect(withAction.canonicalRequest).toContain("host:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\n");
    expect(withAction.hashedCanonicalRequest).toBe("7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84");
  });

  it.each([
    ["older docs: EXAMPLE key, content-type;host", OLD_KEY, false, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"],
    ["asterisk key, content-type;host", NEW_KEY, false, "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"],
    ["current doc: asterisk key, x-tc-action", NEW_KEY, true, "be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3"],
    ["computed: EXAMPLE key, x-tc-action", OLD_KEY, true, "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26"],
  ])("%s", (_name, secretKey, action, signature) => {
    const signed = signTc3({ ...CVM, secretKey, ...(action ? { extraSignedHeaders: ACTION } : {}) });
    expect(signed.signature).toBe(signature);
    const headers = action ? "content-type;host;x-tc-action" : "content-type;host";
    expect(signed.authorization).toBe(
      `TC3-HMAC-SHA256 Credential=${CVM.secretId}/2019-02-25/cvm/tc3_request, SignedHeaders=${headers}, Signature=${signature}`,
    );
  });

  it("reproduces the VMS cross-check computed with the official SDK", () => {
    const signed = signTc3({
      host: "vms.tencentcloudapi.com",
      contentType: "application/json",
      payload: '{"CodeMessage":"1234","CalledNumber":"+8613711112222","VoiceSdkAppid":"1400006666","PlayTimes":2}',
      timestampSec: 1700000000,
      secretId: "AKIDEXAMPLE",
      secretKey: "SECRETEXAMPLE",
    });
    expect(signed.service).toBe("vms");
    expect(signed.credentialScope).toBe("2023-11-14/vms/tc3_request");
    expect(signed.signature).toBe("3a82c6edec8bc3216392db630d0268e7e48d84e5871651b4872deef63cecb9d1");
  });

  it("dates the scope in UTC: 00:30 Beijing time on the 26th is the 25th", () => {
    const beijing0030 = Date.parse("2019-02-26T00:30:00+08:00") / 1000;
    expect(tc3Date(beijing0030)).toBe("2019-02-25");
    expect(tc3Date(Date.parse("2019-02-26T08:00:00+08:00") / 1000)).toBe("2019-02-26");
    expect(signTc3({ ...CVM, timestampSec: beijing0030, secretKey: OLD_KEY }).credentialScope).toBe("2019-02-25/cvm/tc3_request");
  });

  it("refuses a non-integer timestamp rather than signing a wrong date", () => {
    expect(() => tc3Date(1551113065.5)).toThrow(RangeError);
  });
});

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const sendRequests = fc.record({
  callId: fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
  phoneNumber: digits(7, 14).map((d) => `+${d.startsWith("0") ? `8${d.slice(1)}` : d}`),
  code: digits(2, 8),
  playTimes: fc.integer({ min: 1, max: 3 }),
});
const credentials = fc.record({
  secretId: fc.stringMatching(/^AKID[A-Za-z0-9]{32}$/),
  secretKey: fc.stringMatching(/^[\x21-\x7e]{32}$/),
});
// 2001 to 2100, whole seconds.
const timestamps = fc.integer({ min: 978307200, max: 4102444800 });

describe("TC3 signer properties", () => {
  it("matches the official SDK's sign3 on generated VMS bodies, keys and times", () => {
    fc.assert(
      fc.property(sendRequests, credentials, timestamps, fc.constantFrom("application/json; charset=utf-8", "application/json"), (request, creds, timestampSec, contentType) => {
        const body = JSON.stringify({
          CodeMessage: request.code,
          CalledNumber: request.phoneNumber,
          VoiceSdkAppid: "1400006666",
          PlayTimes: request.playTimes,
          SessionContext: request.callId,
        });
        const ours = signTc3({ host: "vms.tencentcloudapi.com", contentType, payload: body, timestampSec, ...creds });
        const official = SdkSign.sign3({
          method: "POST",
          url: "https://vms.tencentcloudapi.com/",
          payload: Buffer.from(body),
          timestamp: timestampSec,
          service: "vms",
          ...creds,
          multipart: false,
          boundary: "",
          headers: { "Content-Type": contentType },
        });
        expect(ours.authorization).toBe(official);
      }),
      { numRuns: 200 },
    );
  });

  it("signs the hostname without the port, sending Host with it, exactly as the SDK does", () => {
    // tencentcloud-sdk-nodejs-common 4.1.220: sign.js signs `host:${new URL(url).hostname}`,
    // http_connection.js sends `Host: new URL(url).host`. With an explicit, non-default
    // port the two differ, and the signature must follow the SDK (Tencent verifies what
    // its SDK signs).
    fc.assert(
      fc.property(
        sendRequests,
        credentials,
        timestamps,
        fc.constantFrom("https://vms.tencentcloudapi.com:8443", "http://127.0.0.1:4567", "https://vms.tencentcloudapi.com", "http://[::1]:9000", "https://vms.ap-guangzhou.tencentcloudapi.com:443"),
        (request, creds, timestampSec, endpoint) => {
          const options = { ...creds, sdkAppId: "1400006666", region: "ap-guangzhou", endpoint };
          const built = buildSendCodeVoiceRequest(options, request, timestampSec);
          const official = SdkSign.sign3({
            method: "POST",
            url: `${endpoint}/`,
            payload: Buffer.from(built.body),
            timestamp: timestampSec,
            service: "vms",
            ...creds,
            multipart: false,
            boundary: "",
            headers: { "Content-Type": built.headers["Content-Type"] ?? "" },
          });
          expect(built.headers.Authorization).toBe(official);
          expect(built.headers.Host).toBe(new URL(endpoint).host);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("is accepted by the fake's independent verifier, and a tampered request is not", () => {
    const tampers = fc.constantFrom("body", "key", "timestamp-header", "signed-host", "authorization");
    fc.assert(
      fc.property(sendRequests, credentials, timestamps, tampers, (request, creds, timestampSec, tamper) => {
        const options = { ...creds, sdkAppId: "1400006666", region: "ap-guangzhou", endpoint: "http://127.0.0.1:4567" };
        const built = buildSendCodeVoiceRequest(options, request, timestampSec);
        const lower = Object.fromEntries(Object.entries(built.headers).map(([k, v]) => [k.toLowerCase(), v]));
        const genuine = { method: "POST", path: "/", headers: lower, body: Buffer.from(built.body) };
        expect(verifyTc3(genuine, creds, timestampSec + 10)).toEqual({ ok: true });

        const tampered = {
          body: { ...genuine, body: Buffer.from(built.body.replace(request.code, `${request.code}0`)) },
          key: genuine,
          "timestamp-header": { ...genuine, headers: { ...lower, "x-tc-timestamp": String(timestampSec + 1) } },
          "signed-host": { ...genuine, headers: { ...lower, host: "127.0.0.2:4567" } },
          authorization: { ...genuine, headers: { ...lower, authorization: lower.authorization?.replace(/.$/, (c) => (c === "0" ? "1" : "0")) } },
        }[tamper];
        const verifyWith = tamper === "key" ? { ...creds, secretKey: `${creds.secretKey}x` } : creds;
        expect(verifyTc3(tampered, verifyWith, timestampSec + 10)).toMatchObject({ ok: false, code: "AuthFailure.SignatureFailure" });
      }),
      { numRuns: 200 },
    );
  });

  it("verifies the Host header's hostname, not its port, as Tencent does for its SDK", () => {
    const creds = { secretId: "AKIDEXAMPLE", secretKey: "SECRETEXAMPLE" };
    const request = { callId: "01JCALLID0000000000000000A", phoneNumber: "+8613711112222", code: "1234", playTimes: 2 };
    const built = buildSendCodeVoiceRequest({ ...creds, sdkAppId: "1400006666", region: "ap-guangzhou", endpoint: "http://127.0.0.1:4567" }, request, 1700000000);
    const lower = Object.fromEntries(Object.entries(built.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const genuine = { method: "POST", path: "/", headers: lower, body: Buffer.from(built.body) };
    expect(verifyTc3(genuine, creds, 1700000000)).toEqual({ ok: true });
    // A proxy may rewrite the port; the signed hostname is what counts.
    expect(verifyTc3({ ...genuine, headers: { ...lower, host: "127.0.0.1" } }, creds, 1700000000)).toEqual({ ok: true });
    expect(verifyTc3({ ...genuine, headers: { ...lower, host: "127.0.0.1:80" } }, creds, 1700000000)).toEqual({ ok: true });
    expect(verifyTc3({ ...genuine, headers: { ...lower, host: "localhost:4567" } }, creds, 1700000000)).toMatchObject({ ok: false });
  });
});
