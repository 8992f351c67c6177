/**
 * Deadlines for h2c sessions, which Node's http2 server does not keep: its timeouts are
 * idle timers reset by any frame (a PING, one DATA byte), and they would also cut a
 * quiet server-streaming response. Here a session is closed once it has had no open
 * stream for `idleMs`, and a request must have sent its whole body within `requestMs`
 * of its headers; the response may then take as long as it needs.
 */
import { type Http2ServerRequest, type Http2ServerResponse, type Http2Session, constants } from "node:http2";

/** Closes `session` after `idleMs` without an open stream (from the start, and after each last stream). */
export function closeWhenIdle(session: Http2Session, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(() => session.close(), idleMs);
    timer.unref();
  };
  arm();
  session.on("stream", (stream) => {
    open += 1;
    clearTimeout(timer);
    stream.once("close", () => {
      open -= 1;
      if (open === 0 && !session.closed && !session.destroyed) arm();
    });
  });
  session.once("close", () => clearTimeout(timer));
}

/**
 * Ends the request if its body is not complete `requestMs` after its headers: with 408
 * if nothing was answered yet, else by resetting the stream.
 */
export function limitRequestTime(req: Http2ServerRequest, res: Http2ServerResponse, requestMs: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (req.complete || req.stream.destroyed) return;
    if (!res.headersSent) {
      const body = JSON.stringify({ error: "request body not received in time" });
      res.writeHead(408, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    }
    req.stream.close(constants.NGHTTP2_CANCEL);
  }, requestMs);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once("end", clear);
  req.stream.once("close", clear);
}
