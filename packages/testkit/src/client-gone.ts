import type { ServerResponse } from "node:http";

/** An abort signal that fires once the client is gone, plus a way to stop listening. */
export interface ClientGoneWatch {
  readonly signal: AbortSignal;
  release(): void;
}

/**
 * Watches a response so paced writers stop as soon as the client disconnects (or the
 * caller's `signal` aborts). Writing on after the client left would only hide the very
 * behaviour tests look for: that cancelling releases the socket at once.
 */
export function watchClientGone(response: ServerResponse, signal?: AbortSignal): ClientGoneWatch {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (response.destroyed || response.writableEnded) abort();
  else response.once("close", abort);
  if (signal?.aborted) abort();
  else signal?.addEventListener("abort", abort, { once: true });
  return {
    signal: controller.signal,
    release: () => {
      response.off("close", abort);
      signal?.removeEventListener("abort", abort);
    },
  };
}
