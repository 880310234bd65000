import { TimeoutError } from "./provider-errors.js";

/**
 * The time budget of one provider call across all its attempts: each attempt gets
 * what is left, so retries never stretch a call past its `timeout`.
 *
 * @example
 * const deadline = new CallDeadline(this.label, (options.timeout ?? 300) * 1000);
 * yield* withRetries(() => attempt({ totalMs: deadline.remainingMs() }), { provider: this.label });
 */
export class CallDeadline {
  /** The `Date.now()` at which the call's time is up. */
  readonly at: number;

  constructor(
    readonly provider: string,
    readonly timeoutMs: number,
    now = Date.now(),
  ) {
    this.at = now + timeoutMs;
  }

  /**
   * Milliseconds left for the next attempt. Once none are left this throws a
   * `TimeoutError` that is not retryable, so that a retry loop stops instead of
   * backing off for nothing.
   */
  remainingMs(now = Date.now()): number {
    const remaining = this.at - now;
    if (remaining <= 0) {
      throw new TimeoutError({
        provider: this.provider,
        phase: "total",
        timeoutMs: this.timeoutMs,
        retryable: false,
      });
    }
    return remaining;
  }
}
