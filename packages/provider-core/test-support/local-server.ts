import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { afterAll, afterEach } from "vitest";
import { closeDispatchers } from "../src/http-client.js";

export interface LocalServer {
  url: string;
  server: Server;
  /** Sockets currently open on the server side. */
  sockets: Set<Socket>;
  /** Requests seen, with their body. */
  requests: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 for the core's own tests (the testkit depends on
 * the core, so the core cannot use it).
 */
export async function startLocalServer(
  handler: (request: IncomingMessage, response: ServerResponse, body: string) => unknown,
): Promise<LocalServer> {
  const sockets = new Set<Socket>();
  const requests: LocalServer["requests"] = [];
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const body = Buffer.concat(parts).toString("utf8");
      requests.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body,
      });
      void handler(request, response, body);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    sockets,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolve once `check` is true, polling; reject after `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs = 2000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

/** What a test file closes after each test: a local server, or anything else it opened. */
interface Closable {
  close(): Promise<void>;
}

/**
 * For a test file whose tests start local servers: registers the hooks that close
 * each test's servers after it (and the core's pooled connections after the file),
 * and returns `serve`, which starts one, and `closeAfterTest`, for anything else a
 * test opens. Call it once, at the top of the file.
 */
export function localServersPerTest(): {
  serve: (handler: Parameters<typeof startLocalServer>[0]) => Promise<LocalServer>;
  closeAfterTest: (closable: Closable) => void;
} {
  const opened: Closable[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((closable) => closable.close()));
  });
  afterAll(closeDispatchers);
  return {
    serve: async (handler) => {
      const server = await startLocalServer(handler);
      opened.push(server);
      return server;
    },
    closeAfterTest: (closable) => {
      opened.push(closable);
    },
  };
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}
