/**
 * mTLS on the API port is enforced per request, not in the handshake: the port asks every
 * client for a certificate but lets one without through to /healthz and /readyz, so the
 * kubelet's probes (which have none) keep working; anything else is refused with the
 * Connect protocol's unauthenticated error.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";

const OPEN_PATHS = new Set(["/healthz", "/readyz"]);

/** What HTTP/1.1 and h2 requests and responses both offer. */
interface Request {
  readonly socket: Socket | TLSSocket;
  readonly url?: string | undefined;
}
interface Response {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body: string): unknown;
}

/** True when the request may go on; otherwise it has been answered 401. */
export function admitClientCertificate(req: Request, res: Response): boolean {
  // An h2 request's socket is a proxy of the session's TLS socket.
  if ((req.socket as TLSSocket).authorized === true) return true;
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (OPEN_PATHS.has(path)) return true;
  const body = JSON.stringify({ code: "unauthenticated", message: "a client certificate signed by the configured CA is required" });
  res.writeHead(401, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
  return false;
}
