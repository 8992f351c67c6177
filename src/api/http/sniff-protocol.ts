/**
 * One cleartext port for HTTP/1.1 and HTTP/2 with prior knowledge: an h2c client opens
 * with the fixed connection preface, an HTTP/1 client with a request line, so the
 * first bytes decide. They are put back on the socket for the server that takes it.
 */
import type { Socket } from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export type WireProtocol = "h2" | "http1";

/**
 * Calls `onProtocol` once enough bytes arrived, with the socket paused and the bytes
 * unshifted; destroys the socket if it closes or stays silent for `timeoutMs` first.
 */
export function sniffProtocol(socket: Socket, timeoutMs: number, onProtocol: (protocol: WireProtocol) => void): void {
  let received: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => {
    cleanup();
    socket.destroy();
  }, timeoutMs);
  timer.unref();

  function cleanup(): void {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("close", cleanup);
  }

  function onData(chunk: Buffer): void {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const n = Math.min(received.length, PREFACE.length);
    const isPrefix = received.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isPrefix && n < PREFACE.length) return; // an h2 preface split over packets
    cleanup();
    socket.pause();
    socket.unshift(received);
    onProtocol(isPrefix ? "h2" : "http1");
  }

  socket.on("data", onData);
  socket.once("close", cleanup);
}
