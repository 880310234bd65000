import type { Server } from "node:http";

/** How long aborted requests get to write their last event before connections close. */
const abortedRequestsWaitMs = 3_000;

/** What a graceful close needs of the HTTP handler (`RegistryHttpHandler`). */
export interface ClosingHandler {
  beginShutdown(): void;
  waitForIdle(timeoutMs: number): Promise<boolean>;
  abortOpenRequests(): void;
}

/**
 * The close of a listening server: stop taking new work, let open requests finish
 * within a grace period, end the rest, then close every connection. Closing twice
 * returns the same promise; `closeNow` cuts a grace period in progress short.
 */
export class GracefulClose {
  #closing: Promise<void> | undefined;
  #endGrace: () => void = () => undefined;
  readonly #graceEnded = new Promise<boolean>((resolve) => {
    this.#endGrace = () => resolve(false);
  });

  constructor(
    readonly httpServer: Server,
    readonly handler: ClosingHandler,
  ) {}

  close(graceMs: number): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  closeNow(): Promise<void> {
    this.#endGrace();
    this.#closing ??= this.#close(0);
    return this.#closing;
  }

  async #close(graceMs: number): Promise<void> {
    const { httpServer, handler } = this;
    handler.beginShutdown();
    // The listener stays open through the grace period, so that `/healthz` can say
    // 503 shutting_down and other new requests get a 503, not a refused connection.
    httpServer.closeIdleConnections();
    if (!(await Promise.race([handler.waitForIdle(graceMs), this.#graceEnded]))) {
      handler.abortOpenRequests();
      // Each aborted stream still writes its error event: on a starved machine that
      // took over a second for 50 streams, and a connection closed before it is a
      // silent cut. Bounded (a client that stops reading holds its stream), and
      // within the CLI's last-resort exit at grace + 5 s.
      await handler.waitForIdle(abortedRequestsWaitMs);
    }
    const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    httpServer.closeAllConnections();
    await closed;
  }
}
