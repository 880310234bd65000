import { connect } from "node:net";

/** An HTTP answer read off a raw socket. */
export interface RawReply {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body, de-chunked when it came chunked. */
  body: Buffer;
}

/** What came back on the socket: an answer, or none (and why). */
export interface RawOutcome {
  reply: RawReply | undefined;
  /** The socket error, if one happened (a reset after the answer is common and harmless). */
  socketError: string | undefined;
}

/** How the client ends its side after writing the request. */
export type RequestEnding = "wait" | "half-close" | "destroy";

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Sent as `content-length` instead of the body's real length (a truncated body). */
  declaredLength?: number;
}

/**
 * The bytes of one HTTP/1.1 request, exactly as given: a path or header value that
 * a client library would refuse or escape goes out as it is. `connection: close`
 * is always set, so the server's close marks the end of its answer.
 */
export function requestBytes(request: RawRequest): Buffer {
  const body = request.body ?? Buffer.alloc(0);
  const headers: Record<string, string> = {
    host: "127.0.0.1",
    connection: "close",
    ...request.headers,
  };
  if (request.body !== undefined || request.declaredLength !== undefined)
    headers["content-length"] = String(request.declaredLength ?? body.byteLength);
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  return Buffer.concat([
    Buffer.from(`${request.method} ${request.path} HTTP/1.1\r\n${head}\r\n`, "latin1"),
    body,
  ]);
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.byteLength) {
    const lineEnd = body.indexOf("\r\n", offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parseReply(bytes: Buffer): RawReply | undefined {
  const headEnd = bytes.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const [statusLine = "", ...lines] = bytes.subarray(0, headEnd).toString("latin1").split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (match === null) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const rest = bytes.subarray(headEnd + 4);
  const body = headers["transfer-encoding"]?.includes("chunked") ? dechunk(rest) : rest;
  return { status: Number(match[1]), headers, body };
}

/**
 * Send raw request bytes to 127.0.0.1:`port` and read what comes back until the
 * server closes the connection. `half-close` ends the client's side after the bytes
 * (a client that stops short of the body it announced), `destroy` resets it (no
 * answer can arrive). Rejects only when the server neither answers nor closes
 * within `timeoutMs`.
 */
export function rawExchange(
  port: number,
  bytes: Buffer,
  ending: RequestEnding = "wait",
  timeoutMs = 10_000,
): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    let socketError: string | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer and no close within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (data: Buffer) => received.push(data));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      socketError = error.code ?? error.message;
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({ reply: parseReply(Buffer.concat(received)), socketError });
    });
    socket.write(bytes, () => {
      if (ending === "half-close") socket.end();
      else if (ending === "destroy") socket.destroy();
    });
  });
}
