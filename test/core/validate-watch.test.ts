import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  GetCallRequestSchema,
  SendRequestSchema,
  WatchStatusRequestSchema,
} from "../../gen/voicecode/v1/voicecode_pb.js";
import { VoiceCodeError } from "../../src/core/errors.js";
import { checkCallId } from "../../src/core/validate-fields.js";
import { validateSend } from "../../src/core/validate-send.js";
import { validateWatch } from "../../src/core/validate-watch.js";

type WatchInit = Parameters<typeof create<typeof WatchStatusRequestSchema>>[1];

function messageOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(VoiceCodeError);
    expect((err as VoiceCodeError).code).toBe("INVALID_ARGUMENT");
    return (err as Error).message;
  }
  return undefined;
}

const watch = (init: WatchInit) => messageOf(() => validateWatch(create(WatchStatusRequestSchema, init), "t1"));
const byRef = (value: string) => watch({ target: { case: "clientReference", value } });
const byId = (value: string) => watch({ target: { case: "callId", value } });
const sendWithRef = (clientReference: string) =>
  messageOf(() => validateSend(create(SendRequestSchema, { phoneNumber: "+8613711112222", code: "1234", clientReference })));

describe("validateWatch", () => {
  it("accepts a call id or a client reference, with the resume point", () => {
    expect(validateWatch(create(WatchStatusRequestSchema, { target: { case: "callId", value: "01JCALL" }, afterSequence: 7n }), "t1")).toEqual({
      target: { callId: "01JCALL", tenant: "t1" },
      afterSequence: 7,
    });
    const ref = "r".repeat(128);
    expect(validateWatch(create(WatchStatusRequestSchema, { target: { case: "clientReference", value: ref } }), "t1")).toEqual({
      target: { clientReference: ref, tenant: "t1" },
      afterSequence: 0,
    });
  });

  it.each([
    ["over 128 characters", "x".repeat(129)],
    ["a megabyte", "x".repeat(1024 * 1024)],
    ["a NUL character", "a\u0000b"],
  ])("refuses a client_reference with %s exactly as Send does", (_name, value) => {
    const message = byRef(value);
    expect(message).toMatch(/^client_reference: /);
    expect(message).toBe(sendWithRef(value));
  });

  it("requires a target, and a non-empty one", () => {
    expect(watch({})).toMatch(/^target: /);
    expect(byRef("")).toBe("client_reference: is required");
    expect(byId("")).toBe("call_id: is required");
  });

  it.each([
    ["over 64 characters", "1".repeat(65), "call_id: at most 64 characters"],
    ["a space", "01J CALL", "call_id: must be letters, digits, '-' or '_'"],
    ["a NUL character", "01J\u0000", "call_id: must be letters, digits, '-' or '_'"],
    ["non-ASCII letters", "01JCALLé", "call_id: must be letters, digits, '-' or '_'"],
  ])("refuses a call_id with %s, in WatchStatus and GetCall alike", (_name, value, expected) => {
    expect(byId(value)).toBe(expected);
    expect(messageOf(() => checkCallId(create(GetCallRequestSchema, { callId: value }).callId))).toBe(expected);
  });

  it("accepts any ULID-like or test id up to 64 characters", () => {
    for (const id of ["01JCALL", "01JDOESNOTEXIST0000000000", "a-b_c", "1".repeat(64)]) expect(byId(id)).toBeUndefined();
  });

  it("refuses after_sequence beyond what a number holds exactly", () => {
    expect(watch({ target: { case: "callId", value: "c" }, afterSequence: 2n ** 60n })).toMatch(/^after_sequence: /);
  });
});
