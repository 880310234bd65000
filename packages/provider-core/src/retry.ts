import { setTimeout as sleep } from "node:timers/promises";
import type { CallControl } from "./call-control.js";
import { BatchedChunks, chunkBatchesOf } from "./chunk-batches.js";
import { AbortError, ProviderError } from "./provider-errors.js";
import { type Chunk, isContentChunk } from "./response-chunks.js";

export interface RetryPolicy {
  /** Attempts in all, the first included (default 3). */
  maxAttempts: number;
  /** The first backoff; each next one doubles (default 250 ms). */
  baseDelayMs: number;
  /** The longest backoff (default 4 s). */
  maxDelayMs: number;
  /** The longest `retry-after` honoured; a longer one fails at once so a router can move on (default 30 s). */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 30_000,
};

/**
 * The wait before attempt `attempt + 1`: exponential backoff with jitter (between
 * half and all of the step), or the upstream's `retry-after` when that is longer.
 * Undefined when the upstream asked for longer than the policy allows.
 */
export function retryDelayMs(
  error: ProviderError,
  attempt: number,
  policy: RetryPolicy,
  random = Math.random,
): number | undefined {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const backoff = step / 2 + (random() * step) / 2;
  if (error.retryAfter === undefined) return backoff;
  const requested = error.retryAfter * 1000;
  if (requested > policy.maxRetryAfterMs) return undefined;
  return Math.max(backoff, requested);
}

export interface RetryOptions {
  provider: string;
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal | undefined;
  /** A caller's control (see `CallControl`): its abort stops the retries as `signal`'s does. */
  control?: CallControl | undefined;
  /** Told before each wait (for logs and tests). */
  onRetry?: (event: { attempt: number; delayMs: number; error: ProviderError }) => void;
  random?: () => number;
}

/**
 * Run `attempt` again while it fails with a retryable error, with backoff, and pass
 * its chunks on. Never retries once a content chunk has been passed on (that would
 * repeat text), nor after an abort; the wait itself ends at once on abort. The
 * answer offers the batched view (see `chunkBatchesOf`), read from each attempt's
 * own batches when it has them.
 */
export function withRetries(
  attempt: (attemptNumber: number) => AsyncIterable<Chunk>,
  options: RetryOptions,
): BatchedChunks {
  if ((options.policy?.maxAttempts ?? defaultRetryPolicy.maxAttempts) <= 1)
    return new BatchedChunks(() => onlyAttempt(attempt));
  return new BatchedChunks(() => retriedBatches(attempt, options));
}

// A policy of one attempt retries nothing: the attempt's batches and its error pass on
// as they are, without a generator of the retry loop in between.
function onlyAttempt(
  attempt: (attemptNumber: number) => AsyncIterable<Chunk>,
): AsyncIterable<readonly Chunk[]> {
  return chunkBatchesOf(attempt(1));
}

// Batches pass whole: an attempt's error comes after the batch of the chunks before
// it, so "content was passed on" is known of a whole batch before it is passed.
async function* retriedBatches(
  attempt: (attemptNumber: number) => AsyncIterable<Chunk>,
  options: RetryOptions,
): AsyncGenerator<readonly Chunk[]> {
  const policy = { ...defaultRetryPolicy, ...options.policy };
  for (let attemptNumber = 1; ; attemptNumber++) {
    let sentContent = false;
    try {
      for await (const batch of chunkBatchesOf(attempt(attemptNumber))) {
        if (!sentContent && batch.some(isContentChunk)) sentContent = true;
        yield batch;
      }
      return;
    } catch (error) {
      if (!ProviderError.isInstance(error) || !error.retryable || sentContent) throw error;
      if (
        attemptNumber >= policy.maxAttempts ||
        options.signal?.aborted ||
        options.control?.aborted
      )
        throw error;
      const delayMs = retryDelayMs(error, attemptNumber, policy, options.random);
      if (delayMs === undefined) throw error;
      options.onRetry?.({ attempt: attemptNumber, delayMs, error });
      try {
        // The control's signal is made here, on a retry's wait, not per call.
        await sleep(delayMs, undefined, { signal: options.signal ?? options.control?.signal });
      } catch (sleepError) {
        throw new AbortError({ provider: options.provider, cause: sleepError });
      }
    }
  }
}
