import { AbortError } from "@g4f-ts/provider-core";
import type { RequestAbort } from "./request-abort.js";

/** A request in flight, as graceful shutdown sees it. */
export interface OpenRequest {
  readonly controller: RequestAbort;
  /** Its context's flag: true once a shutdown's grace period ended with this request still open. */
  endedByShutdown: boolean;
  /** Its place in the open requests' list while open, else -1 (`OpenRequests` keeps it). */
  openIndex: number;
}

/**
 * The requests in flight: what graceful shutdown waits for, and ends when the grace
 * is over. A list whose entries know their place rather than a `Set`: under load
 * requests come and go one for one, and at one request at a time the `Set` went from
 * one entry to none and back, which V8 pays with a new table each time (120 bytes a
 * request); taking one out moves the last one into its place, with no allocation.
 */
export class OpenRequests {
  readonly #open: OpenRequest[] = [];
  readonly #idleWaiters: (() => void)[] = [];

  get size(): number {
    return this.#open.length;
  }

  add(open: OpenRequest): void {
    open.openIndex = this.#open.length;
    this.#open.push(open);
  }

  /** The request ended; the waiters for idleness are told when it was the last. */
  delete(open: OpenRequest): void {
    const index = open.openIndex;
    if (index < 0 || this.#open[index] !== open) return;
    open.openIndex = -1;
    const last = this.#open.pop() as OpenRequest;
    if (last !== open) {
      this.#open[index] = last;
      last.openIndex = index;
    }
    // (No copy of the waiters unless some wait: a request ending alone is the common case.)
    if (this.#open.length === 0 && this.#idleWaiters.length > 0)
      for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  /** Resolves when no request is open, or after `timeoutMs`; true when none is left. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.#open.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const index = this.#idleWaiters.indexOf(onIdle);
        if (index >= 0) this.#idleWaiters.splice(index, 1);
        resolve(this.#open.length === 0);
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
    // A copy: an abort may end a request, which leaves the list, at once.
    for (const open of [...this.#open]) {
      open.endedByShutdown = true;
      open.controller.abort(new AbortError({ message: "The server is shutting down" }));
    }
  }
}
