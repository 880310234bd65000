import { readFileSync } from "node:fs";
import { type Server, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { HttpError } from "./http-errors.js";

/** Descriptors kept for what is not a client connection: files, logs, DNS, node itself. */
const reservedDescriptors = 64;

/** The cap when the descriptor limit can not be read: what a limit of 1,024 gives. */
const fallbackMaxConnections = 480;

/** How long a refused connection may stay open for its answer to be read. */
const refusedLingerMs = 1_000;

/** The soft limit of open file descriptors (`ulimit -n`), where Linux tells it cheaply. */
export function descriptorLimit(): number | undefined {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (match?.[1] === undefined) return undefined;
    return match[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return undefined;
  }
}

/**
 * The default cap of open client connections: half of the descriptors left after a
 * reserve, since every client connection may hold an upstream connection too. A
 * limit of 1,024 gives 480; an unreadable limit gives the same.
 */
export function defaultMaxConnections(limit = descriptorLimit()): number {
  if (limit === undefined) return fallbackMaxConnections;
  if (!Number.isFinite(limit)) return 100_000;
  return Math.max(16, Math.floor((limit - reservedDescriptors) / 2));
}

function refuse(socket: Socket, maxConnections: number): void {
  const body = new HttpError(
    503,
    `The server has ${maxConnections} connections open, its limit (server.maxConnections); retry later`,
    { code: "too_many_connections" },
  ).toBody();
  socket.on("error", () => undefined);
  // Read and drop what the client sends, so that the close is a FIN after the
  // answer, not a reset that could throw the answer away before it is read.
  socket.resume();
  socket.end(
    `HTTP/1.1 503 ${STATUS_CODES[503]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n${body}`,
  );
  const timer = setTimeout(() => socket.destroy(), refusedLingerMs);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

/**
 * Cap the open connections of an HTTP server below the descriptor limit: past it,
 * every request fails (`EMFILE`, then `socket hang up` for everyone), and Node's own
 * `maxConnections` drops the extra connection without a word. Here the connection
 * over the cap gets a 503 in OpenAI's shape and is closed; the others are served.
 * It wraps the server's `connection` listeners (Node's HTTP parser among them), so
 * a refused connection never reaches them.
 */
export function capConnections(server: Server, maxConnections: number): void {
  const listeners = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  let open = 0;
  server.on("connection", (socket: Socket) => {
    if (open >= maxConnections) {
      refuse(socket, maxConnections);
      return;
    }
    open++;
    socket.once("close", () => open--);
    for (const listener of listeners) listener.call(server, socket);
  });
}
