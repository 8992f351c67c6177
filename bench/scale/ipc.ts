/**
 * Request/reply over the fork IPC channel, shared by the scale bench's orchestrator
 * (run.ts) and its children (server.ts, watchers.ts, load.ts). Every request carries an
 * id; the child answers with the same id, a result or an error text.
 */
import { type ChildProcess, fork } from "node:child_process";

interface Request {
  readonly id: number;
  readonly op: string;
  readonly args: unknown;
}
type Reply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across the bench's processes. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export class Child {
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(readonly process: ChildProcess) {
    process.on("message", (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(reply.error));
    });
    process.once("exit", (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`child exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  /** `execArgv` is added to this process's (fork passes tsx's on). */
  static start(file: string, args: readonly string[], execArgv: readonly string[] = []): Child {
    const child = fork(new URL(file, import.meta.url), [...args], {
      execArgv: [...process.execArgv, ...execArgv],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    return new Child(child);
  }

  call<T>(op: string, args: unknown = {}): Promise<T> {
    if (!this.process.connected) return Promise.reject(new Error(`child gone before ${op}`));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.process.send({ id, op, args } satisfies Request);
    });
  }

  /** By its pid only; the child exits on its own when the channel closes. */
  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once("exit", () => resolve()));
    this.process.disconnect();
    const timer = setTimeout(() => this.kill(), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The child's side: answers each request with its handler; exits when the parent goes. */
export function serve(handlers: Record<string, (args: never) => unknown>): void {
  if (process.send === undefined) throw new Error("started by bench/scale/run.ts only");
  process.on("message", (request: Request) => {
    const handler = handlers[request.op];
    const reply = (r: Reply) => process.send?.(r);
    if (handler === undefined) {
      reply({ id: request.id, ok: false, error: `unknown op ${request.op}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(request.args as never))
      .then(
        (result) => reply({ id: request.id, ok: true, result }),
        (err: unknown) => reply({ id: request.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  process.once("disconnect", () => process.exit(0));
}
