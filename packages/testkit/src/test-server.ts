import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { destroySocket, sendText } from "./responses.js";

/** One request the test server received, body included. */
export interface RecordedRequest {
  /** 0-based position among all requests this server received. */
  readonly index: number;
  readonly method: string;
  /** The pathname, without the query. */
  readonly path: string;
  /** The path with its query, as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodyText: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  readonly json: unknown;
}

export interface TestServerHandlerContext {
  /** The connection the request came on, to destroy it or watch it close. */
  readonly socket: Socket;
  /** Same as `request.index`. */
  readonly index: number;
}

/**
 * Answers one request. The body is already read. The server awaits what the handler returns
 * (typed `unknown` so `(request, response) => sendSse(response, events)` fits as is). A handler
 * that throws or rejects gets a 500 with the error message, or a destroyed socket when the
 * headers were already sent.
 */
export type TestServerHandler = (
  request: RecordedRequest,
  response: ServerResponse,
  context: TestServerHandlerContext,
) => unknown;

export interface TestServerOptions {
  /**
   * How long the server keeps an idle keep-alive connection, in ms. Default 1000: short on
   * purpose, so pooled sockets a client no longer uses do not hold
   * `waitForConnectionsClosed` for long (fetch does not reuse a socket with a 1 s hint at all).
   */
  readonly keepAliveTimeoutMs?: number;
  /** Default true. False answers `connection: close`, so every socket ends with its answer. */
  readonly keepAlive?: boolean;
  /**
   * How long a connection may stay open without sending a request, in ms, before the server
   * closes it (with a 408). Default 1000. Node's fetch opens a spare connection after an
   * aborted request; reaping it keeps `waitForConnectionsClosed` about the connections the
   * code under test actually used.
   */
  readonly idleConnectionTimeoutMs?: number;
}

export interface TestServer {
  /** The origin, `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** How many sockets are open right now. */
  openConnections(): number;
  /** Resolves once no socket is open; rejects when some are still open after `timeoutMs`. */
  waitForConnectionsClosed(timeoutMs?: number): Promise<void>;
  /** Resolves with the `Date.now()` of the next socket close; rejects after `timeoutMs`. */
  nextConnectionClose(timeoutMs?: number): Promise<number>;
  /** Replaces the handler for the requests still to come. */
  setHandler(handler: TestServerHandler): void;
  /** Destroys every socket and stops listening. Calling it again returns the same promise. */
  close(): Promise<void>;
}

const DEFAULT_WAIT_MS = 2000;

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of incoming) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

function pathOf(url: string): string {
  const queryStart = url.indexOf("?");
  return queryStart === -1 ? url : url.slice(0, queryStart);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts an HTTP server on 127.0.0.1 at a free port, recording every request and counting
 * open sockets, so a test can script answers and assert on what the client sent and on
 * whether it released its connections.
 *
 * @example
 * const server = await startTestServer((request, response) => {
 *   sendJson(response, 200, { echo: request.json });
 * });
 * try {
 *   await fetch(`${server.url}/echo`, { method: "POST", body: '{"a":1}' });
 *   expect(server.requests[0]?.json).toEqual({ a: 1 });
 * } finally {
 *   await server.close();
 * }
 */
export async function startTestServer(
  handler: TestServerHandler,
  options: TestServerOptions = {},
): Promise<TestServer> {
  let currentHandler = handler;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const closeListeners = new Set<(closedAt: number) => void>();
  const keepAlive = options.keepAlive ?? true;
  let origin = "";

  const idleConnectionTimeoutMs = options.idleConnectionTimeoutMs ?? 1000;
  const server = createServer({
    // Node reaps connections whose request headers are late; a spare connection never sends any.
    headersTimeout: idleConnectionTimeoutMs,
    // 0: a held or slow body is what the fakes are for, never a reason to time out.
    requestTimeout: 0,
    connectionsCheckingInterval: Math.max(20, Math.min(250, idleConnectionTimeoutMs / 4)),
  });
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 1000;

  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      const closedAt = Date.now();
      for (const listener of [...closeListeners]) listener(closedAt);
    });
  });

  server.on("request", (incoming: IncomingMessage, response: ServerResponse) => {
    void answer(incoming, response);
  });

  async function answer(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    let bodyText: string;
    try {
      bodyText = await readBody(incoming);
    } catch {
      // The client left while sending its body: there is no one to answer.
      return;
    }
    const url = incoming.url ?? "/";
    const request: RecordedRequest = {
      index: requests.length,
      method: incoming.method ?? "GET",
      path: pathOf(url),
      url,
      headers: incoming.headers,
      bodyText,
      json: parseJson(bodyText),
    };
    requests.push(request);
    if (!keepAlive) response.setHeader("connection", "close");
    try {
      await currentHandler(request, response, { socket: incoming.socket, index: request.index });
    } catch (error) {
      if (response.headersSent) destroySocket(response);
      else sendText(response, 500, errorMessage(error));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;

  async function closeServer(): Promise<void> {
    // server.close() alone would wait for held streams (never-end) to finish on their own.
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    const socketsClosed = new Promise<void>((resolve) => {
      const onClose = (): void => {
        if (sockets.size > 0) return;
        closeListeners.delete(onClose);
        resolve();
      };
      closeListeners.add(onClose);
      onClose();
    });
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    // The server counts a socket closed before our own listener sees it; wait for both.
    await Promise.all([stopped, socketsClosed]);
  }

  return {
    url: origin,
    port,
    requests,
    openConnections: () => sockets.size,
    waitForConnectionsClosed: (timeoutMs = DEFAULT_WAIT_MS) =>
      new Promise<void>((resolve, reject) => {
        if (sockets.size === 0) {
          resolve();
          return;
        }
        const onClose = (): void => {
          if (sockets.size > 0) return;
          clearTimeout(timer);
          closeListeners.delete(onClose);
          resolve();
        };
        const timer = setTimeout(() => {
          closeListeners.delete(onClose);
          reject(
            new Error(
              `${sockets.size} connection(s) to the test server at ${origin} still open after ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        closeListeners.add(onClose);
      }),
    nextConnectionClose: (timeoutMs = DEFAULT_WAIT_MS) =>
      new Promise<number>((resolve, reject) => {
        const onClose = (closedAt: number): void => {
          clearTimeout(timer);
          closeListeners.delete(onClose);
          resolve(closedAt);
        };
        const timer = setTimeout(() => {
          closeListeners.delete(onClose);
          reject(
            new Error(
              `no connection to the test server at ${origin} closed within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        closeListeners.add(onClose);
      }),
    setHandler: (nextHandler) => {
      currentHandler = nextHandler;
    },
    close: () => {
      closing ??= closeServer();
      return closing;
    },
  };
}
