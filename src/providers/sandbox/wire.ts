/**
 * The sandbox carrier's callback format: one JSON object per POST. It is the one contract
 * between the simulated carrier (network.ts builds it) and our adapter (webhook.ts
 * validates it), so both derive from this schema and cannot drift apart. Like a real
 * provider's push it carries no phone number.
 *
 *   {"callId":"sbx_01J...","userData":"<our call id>","event":"ringing",
 *    "code":"180","text":"Ringing","timestamp":"2025-01-01T00:00:00.800Z"}
 *
 * The "completed" push also says how long the call was connected and since when, and,
 * for an IVR call, which key was pressed (pressedKey, durationSeconds, answeredAt).
 */
import { z } from "zod";

export const SANDBOX_EVENTS = ["dialing", "ringing", "answered", "completed", "failed"] as const;

export type SandboxEvent = (typeof SANDBOX_EVENTS)[number];

export const sandboxCallbackSchema = z.object({
  /** The sandbox's own call id, returned by send. */
  callId: z.string().min(1).max(128),
  /** Echo of the caller's id (our call id); a real carrier may omit an empty echo. */
  userData: z.string().max(128).optional(),
  event: z.enum(SANDBOX_EVENTS),
  code: z.string().min(1).max(32),
  text: z.string().max(256),
  timestamp: z.iso.datetime({ offset: true }),
  /** On "completed" of an IVR call: the key the callee pressed ("" or absent: none). */
  pressedKey: z.string().max(16).optional(),
  /** On "completed": connected seconds. */
  durationSeconds: z.number().int().nonnegative().optional(),
  /** On "completed": when the callee answered. */
  answeredAt: z.iso.datetime({ offset: true }).optional(),
});

export type SandboxCallback = z.infer<typeof sandboxCallbackSchema>;
