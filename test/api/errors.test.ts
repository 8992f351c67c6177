import { Code, ConnectError } from "@connectrpc/connect";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { type ErrorCode, VoiceCodeError, invalidArgument } from "../../src/core/errors.js";
import { toConnectError, toGrpcStatus } from "../../src/api/errors.js";

describe("error mapping", () => {
  const cases: Array<[ErrorCode, status, Code]> = [
    ["INVALID_ARGUMENT", status.INVALID_ARGUMENT, Code.InvalidArgument],
    ["NOT_FOUND", status.NOT_FOUND, Code.NotFound],
    ["ALREADY_EXISTS", status.ALREADY_EXISTS, Code.AlreadyExists],
    ["FAILED_PRECONDITION", status.FAILED_PRECONDITION, Code.FailedPrecondition],
    ["RESOURCE_EXHAUSTED", status.RESOURCE_EXHAUSTED, Code.ResourceExhausted],
    ["UNAVAILABLE", status.UNAVAILABLE, Code.Unavailable],
    ["CANCELED", status.CANCELLED, Code.Canceled],
    ["INTERNAL", status.INTERNAL, Code.Internal],
  ];

  it.each(cases)("%s → grpc %i, connect %i, message kept", (code, grpcCode, connectCode) => {
    const err = new VoiceCodeError(code, "safe message");
    expect(toGrpcStatus(err)).toEqual({ code: grpcCode, details: "safe message" });
    const connect = toConnectError(err);
    expect(connect).toBeInstanceOf(ConnectError);
    expect(connect.code).toBe(connectCode);
    expect(connect.rawMessage).toBe("safe message");
  });

  it("names the field for INVALID_ARGUMENT", () => {
    expect(toGrpcStatus(invalidArgument("play_times", "must be 1 to 3")).details).toBe("play_times: must be 1 to 3");
  });

  it.each([new Error("secret"), new TypeError("x is undefined"), "a string", undefined])(
    "anything else (%s) is INTERNAL without its text",
    (thrown) => {
      expect(toGrpcStatus(thrown)).toEqual({ code: status.INTERNAL, details: "internal error" });
      const connect = toConnectError(thrown);
      expect(connect.code).toBe(Code.Internal);
      expect(connect.rawMessage).toBe("internal error");
      expect(connect.cause).toBeUndefined();
    },
  );
});
