import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { type OutcomeFallback, SendRequestSchema } from "../../gen/voicecode/v1/voicecode_pb.js";
import { VoiceCodeError } from "../../src/core/errors.js";
import { validateSend } from "../../src/core/validate-send.js";

const ok = { phoneNumber: "+8613711112222", code: "1234" };

function fieldOf(init: Parameters<typeof create<typeof SendRequestSchema>>[1]): string | undefined {
  try {
    validateSend(create(SendRequestSchema, init));
  } catch (err) {
    expect(err).toBeInstanceOf(VoiceCodeError);
    const e = err as VoiceCodeError;
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message.startsWith(`${e.field}:`)).toBe(true);
    return e.field;
  }
  return undefined;
}

describe("validateSend", () => {
  it("accepts a valid request and defaults play_times to 2", () => {
    const v = validateSend(create(SendRequestSchema, ok));
    expect(v).toMatchObject({ phoneNumber: "+8613711112222", code: "1234", playTimes: 2, provider: "" });
  });

  it.each([
    ["empty", ""],
    ["no plus", "8613711112222"],
    ["too short for China", "+861371111222"],
    ["letters", "+86137111122ab"],
    ["spaces (not strict E.164)", "+86 137 1111 2222"],
    ["impossible range", "+8600000000000"],
  ])("rejects phone_number: %s", (_name, phoneNumber) => {
    expect(fieldOf({ ...ok, phoneNumber })).toBe("phone_number");
  });

  it.each([["12a4"], [""], ["1"], ["123456789"], ["１２３４"], ["12 34"]])("rejects code %j", (code) => {
    expect(fieldOf({ ...ok, code })).toBe("code");
  });

  it("says a missing code is required, as it does for a missing number", () => {
    expect(() => validateSend(create(SendRequestSchema, { phoneNumber: "+8613711112222" }))).toThrow("code: is required");
    expect(() => validateSend(create(SendRequestSchema, { code: "1234" }))).toThrow("phone_number: is required");
  });

  it("refuses an outcome_fallback value this build does not know, naming the field", () => {
    expect(fieldOf({ ...ok, outcomeFallback: 7 as OutcomeFallback })).toBe("outcome_fallback");
    expect(fieldOf({ ...ok, outcomeFallback: 2 })).toBeUndefined();
  });

  it.each([[4], [100]])("rejects play_times %i", (playTimes) => {
    expect(fieldOf({ ...ok, playTimes })).toBe("play_times");
  });

  it("accepts play_times 1 and 3, and reads 0 (unset) as 2", () => {
    expect(validateSend(create(SendRequestSchema, { ...ok, playTimes: 0 })).playTimes).toBe(2);
    expect(fieldOf({ ...ok, playTimes: 1 })).toBeUndefined();
    expect(fieldOf({ ...ok, playTimes: 3 })).toBeUndefined();
  });

  it("bounds client_reference, idempotency_key and metadata", () => {
    expect(fieldOf({ ...ok, clientReference: "x".repeat(129) })).toBe("client_reference");
    expect(fieldOf({ ...ok, idempotencyKey: "has space" })).toBe("idempotency_key");
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    expect(fieldOf({ ...ok, metadata: many })).toBe("metadata");
    expect(fieldOf({ ...ok, metadata: { k: "v".repeat(257) } })).toBe("metadata[k]");
  });

  it("refuses NUL characters, which PostgreSQL cannot store, on either engine", () => {
    expect(fieldOf({ ...ok, clientReference: "a\u0000b" })).toBe("client_reference");
    expect(fieldOf({ ...ok, metadata: { "k\u0000": "v" } })).toBe("metadata");
    expect(fieldOf({ ...ok, metadata: { k: "v\u0000" } })).toBe("metadata[k]");
    expect(fieldOf({ ...ok, clientReference: "tab\tand newline\n are kept", metadata: { k: "v\n" } })).toBeUndefined();
  });

  it("never puts the code or the number into an error message", () => {
    try {
      validateSend(create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "12ab" }));
    } catch (err) {
      expect((err as Error).message).not.toContain("12ab");
      expect((err as Error).message).not.toContain("13711112222");
    }
  });
});
