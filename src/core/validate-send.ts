import { OutcomeFallback, type SendRequest } from "../../gen/voicecode/v1/voicecode_pb.js";
import { invalidArgument } from "./errors.js";
import { type E164, parseE164Number } from "./phone.js";
import { CLIENT_REFERENCE_MAX_CHARS, checkClientReference, checkLength, checkNoNul } from "./validate-fields.js";

/** Defaults and bounds of a Send, with units where they have one. */
export const SEND_LIMITS = {
  codeDigits: { min: 2, max: 8 },
  playTimes: { min: 1, max: 3, default: 2 },
  clientReferenceChars: CLIENT_REFERENCE_MAX_CHARS,
  idempotencyKeyChars: 128,
  metadataEntries: 16,
  metadataKeyChars: 64,
  metadataValueChars: 256,
} as const;

export interface ValidSend {
  readonly phoneNumber: string;
  /** The number's country calling code, from the one parse of it. */
  readonly countryCallingCode: string;
  readonly code: string;
  readonly playTimes: number;
  /** Empty: let routing pick. */
  readonly provider: string;
  readonly clientReference: string;
  readonly idempotencyKey: string;
  readonly metadata: Readonly<Record<string, string>>;
}

const DIGITS = /^[0-9]+$/;
// Printable ASCII without spaces: these strings end up in logs' neighbourhood and URLs.
const TOKEN = /^[\x21-\x7e]+$/;

/** E.164 with "+" and its country calling code, or INVALID_ARGUMENT on phone_number. */
export function checkPhoneNumber(value: string): E164 {
  if (value === "") throw invalidArgument("phone_number", "is required");
  const phone = parseE164Number(value);
  if (phone === undefined) {
    throw invalidArgument("phone_number", "must be a valid E.164 number such as +8613711112222");
  }
  return phone;
}

export function checkIdempotencyKey(value: string): void {
  checkLength("idempotency_key", value, SEND_LIMITS.idempotencyKeyChars);
  if (value !== "" && !TOKEN.test(value)) {
    throw invalidArgument("idempotency_key", "must be printable ASCII without spaces");
  }
}

export function checkMetadata(metadata: Readonly<Record<string, string>>): void {
  const entries = Object.entries(metadata);
  if (entries.length > SEND_LIMITS.metadataEntries) {
    throw invalidArgument("metadata", `at most ${SEND_LIMITS.metadataEntries} entries`);
  }
  for (const [key, value] of entries) {
    if (key === "") throw invalidArgument("metadata", "keys must not be empty");
    checkNoNul("metadata", key);
    checkLength(`metadata[${key.slice(0, 64)}]`, key, SEND_LIMITS.metadataKeyChars);
    checkLength(`metadata[${key}]`, value, SEND_LIMITS.metadataValueChars);
    checkNoNul(`metadata[${key}]`, value);
  }
}

/** Checks every field of a Send; throws INVALID_ARGUMENT naming the first bad field. */
export function validateSend(request: SendRequest): ValidSend {
  const phone = checkPhoneNumber(request.phoneNumber);

  const { codeDigits, playTimes: plays } = SEND_LIMITS;
  if (request.code === "") throw invalidArgument("code", "is required");
  if (!DIGITS.test(request.code)) throw invalidArgument("code", "must be digits 0-9 only");
  if (request.code.length < codeDigits.min || request.code.length > codeDigits.max) {
    throw invalidArgument("code", `must be ${codeDigits.min} to ${codeDigits.max} digits`);
  }

  const playTimes = request.playTimes === 0 ? plays.default : request.playTimes;
  if (playTimes < plays.min || playTimes > plays.max) {
    throw invalidArgument("play_times", `must be ${plays.min} to ${plays.max}`);
  }

  checkClientReference(request.clientReference);
  checkIdempotencyKey(request.idempotencyKey);
  checkMetadata(request.metadata);
  // A value from a newer API this build does not know would otherwise read as "the route's".
  if (OutcomeFallback[request.outcomeFallback] === undefined) {
    throw invalidArgument("outcome_fallback", "must be UNSPECIFIED, ENABLED or DISABLED");
  }

  return {
    phoneNumber: phone.number,
    countryCallingCode: phone.countryCallingCode,
    code: request.code,
    playTimes,
    provider: request.provider,
    clientReference: request.clientReference,
    idempotencyKey: request.idempotencyKey,
    metadata: { ...request.metadata },
  };
}
