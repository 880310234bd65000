import { setTimeout as sleep } from "node:timers/promises";
import type { CallControl } from "./call-control.js";
import {
  BatchedChunks,
  type BatchesOfAnswer,
  chunkBatchesOf,
  hasChunkBatches,
} from "./chunk-batches.js";
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
  return new BatchedChunks(() => new RetriedBatches(attempt, options));
}

// A policy of one attempt retries nothing: the attempt's batches and its error pass on
// as they are, without a generator of the retry loop in between (and an attempt that
// offers its own batches without a view around them).
function onlyAttempt(attempt: (attemptNumber: number) => AsyncIterable<Chunk>): BatchesOfAnswer {
  const answer = attempt(1);
  return hasChunkBatches(answer) ? answer : chunkBatchesOf(answer);
}

const doneBatch: IteratorResult<readonly Chunk[]> = { done: true, value: undefined };

/**
 * The batches of the attempts: the current attempt's passed on as they come (one
 * `then` per batch, no generator step), and on a failure that can succeed on a
 * retry, a wait and the next attempt. Batches pass whole: an attempt's error comes
 * after the batch of the chunks before it, so "content was passed on" is known of a
 * whole batch before it is passed. Once content was passed on, an error fails the
 * call; so does one that is not retryable, the last attempt's, one after an abort,
 * or one whose `retry-after` is longer than the policy allows.
 *
 * As the async generator it replaces: the first attempt starts at the first
 * `next()`, a failure to start an attempt counts as its failure, and after the end
 * or a failure `next()` is done. `return()` releases the current attempt; one made
 * during a wait starts no further attempt.
 */
class RetriedBatches implements AsyncIterable<readonly Chunk[]>, AsyncIterator<readonly Chunk[]> {
  readonly #attempt: (attemptNumber: number) => AsyncIterable<Chunk>;
  readonly #options: RetryOptions;
  readonly #policy: RetryPolicy;
  #attemptNumber = 0;
  #batches: AsyncIterator<readonly Chunk[]> | undefined;
  #sentContent = false;
  #over = false;

  constructor(attempt: (attemptNumber: number) => AsyncIterable<Chunk>, options: RetryOptions) {
    this.#attempt = attempt;
    this.#options = options;
    this.#policy = { ...defaultRetryPolicy, ...options.policy };
  }

  [Symbol.asyncIterator](): AsyncIterator<readonly Chunk[]> {
    return this;
  }

  next(): Promise<IteratorResult<readonly Chunk[]>> {
    if (this.#over) return Promise.resolve(doneBatch);
    if (this.#batches === undefined) return this.#nextAttempt();
    return this.#nextOf(this.#batches);
  }

  async return(): Promise<IteratorResult<readonly Chunk[]>> {
    if (this.#over) return doneBatch;
    this.#over = true;
    await this.#batches?.return?.();
    return doneBatch;
  }

  #nextOf(batches: AsyncIterator<readonly Chunk[]>): Promise<IteratorResult<readonly Chunk[]>> {
    let next: Promise<IteratorResult<readonly Chunk[]>>;
    try {
      next = batches.next();
    } catch (error) {
      return this.#onFailure(error);
    }
    return next.then(this.#onBatch, this.#onFailure);
  }

  #nextAttempt(): Promise<IteratorResult<readonly Chunk[]>> {
    this.#attemptNumber++;
    try {
      this.#batches = chunkBatchesOf(this.#attempt(this.#attemptNumber))[Symbol.asyncIterator]();
    } catch (error) {
      this.#batches = undefined;
      return this.#onFailure(error);
    }
    return this.#nextOf(this.#batches);
  }

  readonly #onBatch = (
    result: IteratorResult<readonly Chunk[]>,
  ): IteratorResult<readonly Chunk[]> => {
    if (result.done) {
      this.#over = true;
      return doneBatch;
    }
    if (!this.#sentContent && result.value.some(isContentChunk)) this.#sentContent = true;
    return result;
  };

  readonly #onFailure = (error: unknown): Promise<IteratorResult<readonly Chunk[]>> => {
    const options = this.#options;
    const policy = this.#policy;
    const attemptNumber = this.#attemptNumber;
    if (
      this.#over ||
      !ProviderError.isInstance(error) ||
      !error.retryable ||
      this.#sentContent ||
      attemptNumber >= policy.maxAttempts ||
      options.signal?.aborted ||
      options.control?.aborted
    ) {
      this.#over = true;
      return Promise.reject(error);
    }
    const delayMs = retryDelayMs(error, attemptNumber, policy, options.random);
    if (delayMs === undefined) {
      this.#over = true;
      return Promise.reject(error);
    }
    try {
      options.onRetry?.({ attempt: attemptNumber, delayMs, error });
    } catch (hookError) {
      this.#over = true;
      return Promise.reject(hookError);
    }
    // The control's signal is made here, on a retry's wait, not per call.
    return sleep(delayMs, undefined, { signal: options.signal ?? options.control?.signal }).then(
      () => (this.#over ? doneBatch : this.#nextAttempt()),
      (sleepError: unknown) => {
        this.#over = true;
        throw new AbortError({ provider: options.provider, cause: sleepError });
      },
    );
  };
}
