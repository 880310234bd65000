import { Cancellation } from "@g4f-ts/provider-core/internal";

/**
 * What the registry needs of a cancellation signal: an `AbortSignal` is one, and so
 * is a {@link RequestAbort}.
 */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * The cancellation of one HTTP request (the client left, or a shutdown ended it).
 * Not an `AbortController`: on Node 20 making one and reading its signal costs
 * about 5 µs; the core's `Cancellation` costs an object, and tells its listeners
 * once, in the order they were added.
 */
export class RequestAbort extends Cancellation implements AbortSource {}

/**
 * Wait `delayMs`, or less when `signal` aborts first (then it rejects with
 * `onAbort()`'s error). `timers/promises` would need a real `AbortSignal`.
 */
export function waitUnlessAborted(
  delayMs: number,
  signal: AbortSource | undefined,
  onAbort: () => Error,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(onAbort());
  return new Promise((resolve, reject) => {
    const aborted = (): void => {
      clearTimeout(timer);
      reject(onAbort());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }, delayMs);
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
