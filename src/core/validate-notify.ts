/**
 * Notify's own fields. The rest (number, reference, idempotency key, metadata) follow
 * Send's rules. Bounds here are the API's; each provider checks its own, tighter
 * limits (Kingsoft: values of at most 100 characters, no URLs) before any network call.
 */
import type { NotifyRequest } from "../../gen/voicecode/v1/voicecode_pb.js";
import { invalidArgument } from "./errors.js";
import { checkClientReference, checkLength, hasControlCharacter } from "./validate-fields.js";
import { checkIdempotencyKey, checkMetadata, checkPhoneNumber } from "./validate-send.js";

export const NOTIFY_LIMITS = {
  templateNameChars: 64,
  paramEntries: 16,
  paramKeyChars: 32,
  paramValueChars: 256,
  displayNumberDigits: 20,
} as const;

export interface ValidNotify {
  readonly phoneNumber: string;
  /** The number's country calling code, from the one parse of it. */
  readonly countryCallingCode: string;
  readonly templateName: string;
  /** Never logged, never stored. */
  readonly templateParams: Readonly<Record<string, string>>;
  readonly collectKeyPress: boolean;
  readonly displayNumber: string | undefined;
  /** Empty: let routing pick. */
  readonly provider: string;
  readonly clientReference: string;
  readonly idempotencyKey: string;
  readonly metadata: Readonly<Record<string, string>>;
}

const TEMPLATE_NAME = /^[A-Za-z0-9_.-]+$/;
const PARAM_KEY = /^[A-Za-z0-9_]+$/;
const DIGITS = /^[0-9]+$/;

/** Checks every field of a Notify; throws INVALID_ARGUMENT naming the first bad field. */
export function validateNotify(request: NotifyRequest): ValidNotify {
  const phone = checkPhoneNumber(request.phoneNumber);

  if (request.templateName === "") throw invalidArgument("template_name", "is required");
  checkLength("template_name", request.templateName, NOTIFY_LIMITS.templateNameChars);
  if (!TEMPLATE_NAME.test(request.templateName)) {
    throw invalidArgument("template_name", "must be letters, digits, '_', '-' or '.'");
  }

  const entries = Object.entries(request.templateParams);
  if (entries.length > NOTIFY_LIMITS.paramEntries) {
    throw invalidArgument("template_params", `at most ${NOTIFY_LIMITS.paramEntries} entries`);
  }
  for (const [key, value] of entries) {
    if (key === "") throw invalidArgument("template_params", "keys must not be empty");
    if (key.length > NOTIFY_LIMITS.paramKeyChars || !PARAM_KEY.test(key)) {
      throw invalidArgument("template_params", `keys must be 1 to ${NOTIFY_LIMITS.paramKeyChars} letters, digits or '_'`);
    }
    // The value is never quoted back: it may be personal data.
    checkLength(`template_params[${key}]`, value, NOTIFY_LIMITS.paramValueChars);
    // C0 controls and DEL: no template engine speaks them, and they disturb logs and JSON.
    if (hasControlCharacter(value)) throw invalidArgument(`template_params[${key}]`, "must not contain control characters");
  }

  const display = request.displayNumber;
  if (display !== "" && (!DIGITS.test(display) || display.length > NOTIFY_LIMITS.displayNumberDigits)) {
    throw invalidArgument("display_number", `must be 1 to ${NOTIFY_LIMITS.displayNumberDigits} digits`);
  }

  checkClientReference(request.clientReference);
  checkIdempotencyKey(request.idempotencyKey);
  checkMetadata(request.metadata);

  return {
    phoneNumber: phone.number,
    countryCallingCode: phone.countryCallingCode,
    templateName: request.templateName,
    templateParams: { ...request.templateParams },
    collectKeyPress: request.collectKeyPress,
    displayNumber: display === "" ? undefined : display,
    provider: request.provider,
    clientReference: request.clientReference,
    idempotencyKey: request.idempotencyKey,
    metadata: { ...request.metadata },
  };
}
