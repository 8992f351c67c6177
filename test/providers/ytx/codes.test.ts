import { describe, expect, it } from "vitest";
import { CallState, FailureReason } from "../../../src/core/model.js";
import {
  YTX_API_CODES,
  YTX_PUSH_WORDS,
  apiCodeIsAmbiguous,
  apiFailureReason,
  pushStatusFor,
} from "../../../src/providers/ytx/codes.js";

describe("ytx API codes", () => {
  it("maps the seed's codes as the brief requires", () => {
    expect(apiFailureReason("-2")).toBe(FailureReason.CONFIG_ERROR);
  });

  it("maps -205 to CONFIG_ERROR: every cause the seed lists is configuration, not credentials", () => {
    // Seed 001, "应用验证失败原因(-205)": the app id does not match the environment, the
    // caller's IP is not in the app's whitelist, or the app lacks the feature / is not
    // launched. The account's credentials are fine (they fail with -200..-203).
    expect(apiFailureReason("-205")).toBe(FailureReason.CONFIG_ERROR);
  });

  it.each([
    ["-1", FailureReason.INVALID_NUMBER],
    ["-3", FailureReason.CONFIG_ERROR],
    ["-4", FailureReason.CONFIG_ERROR],
    ["-101", FailureReason.CONFIG_ERROR],
    ["-102", FailureReason.INVALID_NUMBER],
    ["-104", FailureReason.RATE_LIMITED],
    ["-200", FailureReason.AUTH_ERROR],
    ["-201", FailureReason.AUTH_ERROR],
    ["-202", FailureReason.AUTH_ERROR],
    ["-203", FailureReason.AUTH_ERROR],
    ["-204", FailureReason.INSUFFICIENT_BALANCE],
  ])("maps third-party table code %s", (code, reason) => {
    expect(apiFailureReason(code)).toBe(reason);
  });

  it("covers every code of the table with a text and a failure reason", () => {
    expect(Object.keys(YTX_API_CODES).sort()).toEqual(
      ["-1", "-2", "-3", "-4", "-100", "-101", "-102", "-104", "-200", "-201", "-202", "-203", "-204", "-205"].sort(),
    );
    for (const [code, entry] of Object.entries(YTX_API_CODES)) {
      expect(entry.text, code).not.toBe("");
      expect(apiFailureReason(code)).toBe(entry.reason);
      expect([FailureReason.UNSPECIFIED, FailureReason.UNKNOWN]).not.toContain(entry.reason);
    }
  });

  it.each(["-999", "1", "", "toString", "__proto__"])("maps unknown code %j to UNKNOWN", (code) => {
    expect(apiFailureReason(code)).toBe(FailureReason.UNKNOWN);
    expect(apiCodeIsAmbiguous(code)).toBe(false);
  });

  it("treats only -100 (a generic exception, which may come after dispatch) as ambiguous", () => {
    expect(Object.keys(YTX_API_CODES).filter(apiCodeIsAmbiguous)).toEqual(["-100"]);
  });
});

describe("ytx push words (UNCONFIRMED)", () => {
  it("normalizes case, spaces, underscores and dashes", () => {
    for (const raw of ["no_answer", "No Answer", "NO-ANSWER", " noanswer "]) {
      expect(pushStatusFor(raw), raw).toEqual({ state: CallState.FAILED, reason: FailureReason.NO_ANSWER });
    }
  });

  it.each(["0", "1", "disconnect", "hangup", "constructor", ""])("leaves %j unmapped", (raw) => {
    expect(pushStatusFor(raw)).toBeUndefined();
  });

  it("gives a reason exactly to failures and marks only bare failures provisional", () => {
    for (const [word, status] of Object.entries(YTX_PUSH_WORDS)) {
      const failed = status.state === CallState.FAILED;
      expect(status.reason === FailureReason.UNSPECIFIED, word).toBe(!failed);
      expect(status.provisional === true, word).toBe(failed && status.reason === FailureReason.UNKNOWN);
      expect(pushStatusFor(word), word).toBe(status);
    }
  });
});
