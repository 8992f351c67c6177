/**
 * The CLI's exit codes, one per outcome, so a script can branch on how the call ended
 * without parsing output. Documented in the main usage text and docs/operations.md.
 */
import { CallState } from "../../gen/voicecode/v1/voicecode_pb.js";

/** Send: the provider accepted the call. send --watch / watch <call-id>: it COMPLETED. */
export const EXIT_OK = 0;
/** An RPC or transport error (the server refused the request, unreachable, wrong port). */
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
/** The call is FAILED: refused by the provider at Send, or ended FAILED. */
export const EXIT_FAILED = 3;
/**
 * The outcome is not known yet: Send answered PENDING (the provider's answer was lost),
 * or the watch ended before the call did (server draining, connection lost). The hint
 * on stderr says how to resume.
 */
export const EXIT_UNFINISHED = 4;
/** 128 + SIGINT, what shells report for an interrupted command. */
export const EXIT_INTERRUPTED = 130;

export const EXIT_CODES_TEXT = `exit codes:
  0    done: send got ACCEPTED; send --watch or watch <call-id> saw COMPLETED;
       check: the code was APPROVED
  1    RPC or transport error (the server refused the request, unreachable, wrong port)
  2    usage error
  3    the call FAILED (refused at Send, or ended FAILED); check: any answer but APPROVED
  4    outcome not known yet: Send answered PENDING, or the watch ended before the
       call did (server draining, connection lost); stderr says how to resume
  130  interrupted (Ctrl-C)`;

/** The exit code for a call last seen in `state`. */
export function exitCodeForState(state: CallState): number {
  switch (state) {
    case CallState.COMPLETED:
      return EXIT_OK;
    case CallState.FAILED:
      return EXIT_FAILED;
    default:
      return EXIT_UNFINISHED;
  }
}
