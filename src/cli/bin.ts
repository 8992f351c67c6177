/** Process entry: wires runCli to the real process (argv, env, Ctrl-C, exit code). */
import { EXIT_INTERRUPTED, runCli } from "./main.js";

const controller = new AbortController();

process.on("SIGINT", () => {
  // First Ctrl-C cancels the RPC cleanly; a second one means "stop now".
  if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
  controller.abort();
});

// `voicecode watch ... | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
  controller.abort();
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
