/**
 * Feeds an async iterable into a grpc-js server stream. grpc-js never stops a handler on
 * its own (grpc-node #2385), so this is where cancellation turns into releasing the
 * producer: on abort the iterator's return() runs, so its `finally` (the core's bus
 * subscription) is released even when the consumer vanished mid-write.
 */
/** The response half pump writes to: a grpc-js server-streaming or bidi call. */
export interface ResponseStream<O> {
  write(message: O): boolean;
  on(event: "drain", listener: () => void): unknown;
  off(event: "drain", listener: () => void): unknown;
}

const ABORTED = Symbol("aborted");

export type PumpResult = "completed" | "aborted";

/**
 * Throws what the iterable throws; "aborted" means the caller is gone and nothing more may
 * be sent. `beforeFirstWrite` runs once, just before the first message is written.
 */
export async function pump<O>(
  call: ResponseStream<O>,
  iterable: AsyncIterable<O>,
  signal: AbortSignal,
  beforeFirstWrite?: () => void,
): Promise<PumpResult> {
  const iterator = iterable[Symbol.asyncIterator]();
  let first = beforeFirstWrite;
  for (;;) {
    const step = await untilAborted(iterator.next(), signal);
    if (step === ABORTED) return release(iterator);
    if (step.done === true) return "completed";
    if (first !== undefined) {
      first();
      first = undefined;
    }
    if (!call.write(step.value) && !(await drained(call, signal))) return release(iterator);
  }
}

function release(iterator: AsyncIterator<unknown>): "aborted" {
  // Not awaited: an async generator busy in an await queues return() until it yields,
  // and the response must not wait for that. The core stops at the abort, so it yields soon.
  try {
    const done = iterator.return?.();
    if (done !== undefined) done.catch(() => undefined);
  } catch {
    // A producer that throws while being closed has nothing left to tell a gone caller.
  }
  return "aborted";
}

/**
 * `iterable`'s items until it ends or `signal` aborts: a consumer waiting for the next
 * item is let go at once (a plain `for await` would wait for an item that may never come).
 */
export async function* takeUntil<T>(iterable: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    for (;;) {
      const step = await untilAborted(iterator.next(), signal);
      if (step === ABORTED) return;
      if (step.done === true) {
        exhausted = true;
        return;
      }
      yield step.value;
    }
  } finally {
    if (!exhausted) release(iterator);
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(ABORTED);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** Resolves true on 'drain', false if the call ends first. */
function drained(call: ResponseStream<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      call.off("drain", onDrain);
      signal.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onAbort = () => done(false);
    call.on("drain", onDrain);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
