/**
 * One delivery attempt of one callback, the way a carrier's push client makes it: a
 * JSON POST that counts as delivered only on a 2xx answer within the timeout.
 */

export interface PostOptions {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  /** Aborted when the network closes, so shutdown never waits for a slow receiver. */
  readonly cancel: AbortSignal;
}

/** Resolves once acknowledged; rejects on a non-2xx answer, a timeout or a socket error. */
export async function postCallback(url: string, body: string, options: PostOptions): Promise<void> {
  const response = await options.fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "voicecode-sandbox-carrier/1" },
    body,
    signal: AbortSignal.any([options.cancel, AbortSignal.timeout(options.timeoutMs)]),
  });
  // Drained so the keep-alive socket goes back to the pool instead of leaking.
  await response.arrayBuffer();
  // The URL stays out of the message: its path carries the webhook secret.
  if (!response.ok) throw new Error(`callback receiver answered HTTP ${response.status}`);
}
