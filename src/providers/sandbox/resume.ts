/**
 * The sandbox keeps its promises across restarts. Its carrier's timers die with the
 * process, so at start the sandbox asks the store which of its calls are still open
 * and plays what is left of each script: the scenario comes from the stored masked
 * number (its last four digits are kept in clear), what is left from the stored state.
 * The callbacks go through the webhook port like any other.
 *
 * A call that is open but already past its last scripted state (nothing left) is left
 * to the deadline sweeper. With several replicas each resumes the open calls at its
 * own start, also calls another replica's carrier is still playing: the callbacks are
 * the same pushes (same provider call id and event), so the store drops the repeats.
 */
import { ulid } from "../../core/ulid.js";
import type { Store } from "../../store/store.js";
import type { SandboxNetwork } from "./network.js";
import { keyPressFor } from "./scenarios.js";

export interface ResumeSandboxOptions {
  readonly store: Pick<Store, "listOpenCalls">;
  readonly network: SandboxNetwork;
  /** The provider name the calls are stored under. Default "sandbox". */
  readonly provider?: string;
  /** For a call whose Send answer was lost: the carrier needs an id to report under. */
  readonly newProviderCallId?: () => string;
  readonly pageSize?: number;
}

/** Returns how many calls were resumed. */
export async function resumeSandboxCalls(options: ResumeSandboxOptions): Promise<number> {
  const provider = options.provider ?? "sandbox";
  const newId = options.newProviderCallId ?? (() => `sbx_${ulid()}`);
  const pageSize = options.pageSize ?? 500;
  let resumed = 0;
  let after = "";
  for (;;) {
    const page = await options.store.listOpenCalls(provider, after, pageSize);
    for (const call of page) {
      const started = options.network.resumeCall({
        callId: call.callId,
        // The pushes echo our call id, so a fresh id still finds (and is claimed by) the call.
        providerCallId: call.providerCallId === "" ? newId() : call.providerCallId,
        phoneNumber: call.phoneMasked,
        playTimes: call.playTimes,
        reached: call.state,
        // The key is chosen by the number's last digits, which the masked number keeps.
        ...(call.kind === "ivr" ? { pressedKey: keyPressFor(call.phoneMasked) } : {}),
      });
      if (started) resumed++;
    }
    const last = page.at(-1);
    if (last === undefined || page.length < pageSize) return resumed;
    after = last.callId;
  }
}
