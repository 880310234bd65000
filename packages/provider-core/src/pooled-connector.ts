import type { Socket } from "node:net";
import { buildConnector } from "undici";

/** Why a connect was refused: a reconnect for a request that is already over. */
class SpareConnectionRefused extends Error {
  constructor() {
    super("no request is waiting for this connection: its request was aborted");
    this.name = "SpareConnectionRefused";
  }
}

/** The origin one of whose sockets closes right now after its request was aborted. */
let closingAfterAbort: string | undefined;

function originOf(options: buildConnector.Options): string {
  return `${options.protocol}//${options.hostname}:${options.port}`;
}

/**
 * A connector for the pooled agent: undici's own, plus one fix. Aborting a request
 * mid-answer destroys its socket with an "aborted" informational error; undici 7's
 * client then still counts the aborted request as pending and, in that socket's
 * close, opens a new connection for it, which never carries a request and is
 * closed again or sits idle in the pool: one spare upstream connection (a TCP and
 * TLS handshake) per cancelled call (nodejs/undici#5845). The connector sees such
 * a close and refuses the connect the client asks for within it; the client then
 * drops the aborted request and opens nothing. A later request connects as usual.
 *
 * Only that synchronous reconnect is refused: the mark lasts until the close event
 * is over. The agent has no connection limit, so a client holds no request but the
 * one it runs, and the reconnect cannot be for another request.
 */
export function createPooledConnector(
  options: buildConnector.BuildOptions,
): buildConnector.connector {
  const connect = buildConnector(options);
  return (connectOptions, callback) => {
    const origin = originOf(connectOptions);
    if (closingAfterAbort === origin) {
      // Later, as a real connect would answer: the client asks from inside its
      // resume loop, and only a callback outside it lets a pending close finish.
      process.nextTick(callback, new SpareConnectionRefused(), null);
      return;
    }
    connect(connectOptions, (...result) => {
      // On a failure undici passes no socket at all, not null.
      if (result[1]) watchSocket(result[1], origin);
      callback(...result);
    });
  };
}

// Attached before undici's own listeners, so it runs first in the close that makes
// undici reconnect; the mark is cleared once that close event is over.
function watchSocket(socket: Socket, origin: string): void {
  let aborted = false;
  socket.on("error", (error: Error & { code?: string }) => {
    aborted = error.code === "UND_ERR_INFO" && error.message === "aborted";
  });
  socket.once("close", () => {
    if (!aborted) return;
    closingAfterAbort = origin;
    queueMicrotask(() => {
      closingAfterAbort = undefined;
    });
  });
}
