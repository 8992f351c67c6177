/** A hand-driven HTTP/1.1 client: writes whatever a test says, byte by byte if need be. */
import { type Socket, connect } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawHttp1 {
  readonly socket: Socket;
  /** Resolves false once the server has closed the connection (or it broke). */
  write(data: string | Buffer): Promise<boolean>;
  /** The next response (a content-length, chunked or connection-close body), or undefined if the connection closed first. */
  response(): Promise<RawResponse | undefined>;
  /** Resolves when the connection is closed, whoever closed it. */
  readonly closed: Promise<void>;
}

export async function rawHttp1(port: number): Promise<RawHttp1> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  // Resets after the server refused us are expected; the test looks at `closed`.
  socket.on("error", () => undefined);
  let received = Buffer.alloc(0);
  let ended = false;
  let notify = () => {};
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    notify();
  });
  const closed = new Promise<void>((resolve) => {
    socket.once("close", () => {
      ended = true;
      notify();
      resolve();
    });
  });

  /** Takes one complete response off the front of `received`, if there is one. */
  function take(): RawResponse | undefined {
    const headEnd = received.indexOf("\r\n\r\n");
    if (headEnd < 0) return undefined;
    const [statusLine = "", ...lines] = received.subarray(0, headEnd).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = headers["content-length"];
    const bodyStart = headEnd + 4;
    let bodyEnd: number;
    if (headers["transfer-encoding"] === "chunked") {
      const chunks: Buffer[] = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = received.indexOf("\r\n", at);
        if (lineEnd < 0) return undefined;
        const size = Number.parseInt(received.subarray(at, lineEnd).toString("latin1"), 16);
        if (received.length < lineEnd + 2 + size + 2) return undefined;
        chunks.push(received.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      received = received.subarray(at);
      return { status: Number(statusLine.split(" ")[1]), headers, body: Buffer.concat(chunks).toString("utf8") };
    }
    if (length !== undefined) {
      bodyEnd = bodyStart + Number(length);
      if (received.length < bodyEnd) return undefined;
    } else if (ended) {
      bodyEnd = received.length;
    } else {
      return undefined;
    }
    const body = received.subarray(bodyStart, bodyEnd).toString("utf8");
    received = received.subarray(bodyEnd);
    return { status: Number(statusLine.split(" ")[1]), headers, body };
  }

  return {
    socket,
    closed,
    write(data) {
      if (socket.destroyed || socket.writableEnded) return Promise.resolve(false);
      return new Promise((resolve) => {
        socket.write(data, (err) => resolve(err == null));
      });
    },
    response() {
      return new Promise((resolve) => {
        const check = () => {
          const res = take();
          if (res !== undefined || ended) {
            notify = () => {};
            resolve(res);
          }
        };
        notify = check;
        check();
      });
    },
  };
}
