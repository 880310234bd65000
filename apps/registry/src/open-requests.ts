import { AbortError } from "@g4f-ts/provider-core";
import type { RequestAbort } from "./request-abort.js";

/** A request in flight, as graceful shutdown sees it. */
export interface OpenRequest {
  readonly controller: RequestAbort;
  /** Its context's flag: true once a shutdown's grace period ended with it open. */
  endedByShutdown: boolean;
}

/** The requests in flight: what graceful shutdown waits for, and ends when the grace is over. */
export class OpenRequests {
  readonly #open = new Set<OpenRequest>();
  readonly #idleWaiters: (() => void)[] = [];

  get size(): number {
    return this.#open.size;
  }

  add(open: OpenRequest): void {
    this.#open.add(open);
  }

  /** The request ended; the waiters for idleness are told when it was the last. */
  delete(open: OpenRequest): void {
    this.#open.delete(open);
    // (No copy of the waiters unless some wait: a request ending alone is the common case.)
    if (this.#open.size === 0 && this.#idleWaiters.length > 0)
      for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  /** Resolves when no request is open, or after `timeoutMs`; true when none is left. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.#open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const index = this.#idleWaiters.indexOf(onIdle);
        if (index >= 0) this.#idleWaiters.splice(index, 1);
        resolve(this.#open.size === 0);
      }, timeoutMs);
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idleWaiters.push(onIdle);
    });
  }

  /** End every open request: a committed stream gets a final error event saying why. */
  abortAll(): void {
    for (const open of this.#open) {
      open.endedByShutdown = true;
      open.controller.abort(new AbortError({ message: "The server is shutting down" }));
    }
  }
}
