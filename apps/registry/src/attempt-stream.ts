import {
  AbortError,
  CallControl,
  type Chunk,
  chunkBatchesOf,
  type Messages,
  type Provider,
  type ProviderOptions,
  TimeoutError,
  withCallControl,
} from "@g4f-ts/provider-core";
import { DeadlineTimer } from "@g4f-ts/provider-core/internal";
import type { AttemptTimeouts } from "./config.js";
import type { AbortSource } from "./request-abort.js";

/**
 * Who takes the outcome of one `TimedAttempt.read()`: exactly one of its methods is
 * called, once, and never before `read()` returned. It is the callback form of
 * `nextBatch()`, for the engines that read an answer without a promise of their
 * own per batch (the commit search and the whole-answer gathering in `fallback.ts`).
 */
export interface BatchReader {
  /** The chunks one network read of the provider completed (possibly none). */
  batch(chunks: readonly Chunk[]): void;
  /** The answer ended well. */
  end(): void;
  /** The provider's error, a `TimeoutError` or an `AbortError`, as `nextBatch()` rejects. */
  fail(error: unknown): void;
}

/**
 * One call of a provider, with the registry's three timers around it: until the
 * first chunk, between chunks (counted only while the registry waits for the
 * provider, so a slow client does not blame it), and for the whole attempt. A
 * timer that runs out, or the client's signal, aborts the attempt's own
 * `CallControl`, so the provider closes its upstream socket at once, and fails the
 * pending `next()` even if the provider ignores the abort.
 *
 * The control is what the attempt hands the provider instead of an
 * `AbortController` (see `withCallControl`): a provider of the core honours it
 * without an `AbortSignal` (none is made), and its HTTP call's deadlines run on the
 * control's clock beside the attempt's, so an attempt arms one timer; a provider
 * that knows only `signal` gets the control's, made when it reads it.
 *
 * It is a plain iterator with bound callbacks rather than an async generator with
 * `Promise.race`: one stream can carry thousands of chunks, and racing against a
 * long-lived promise would pile up reactions on it until the stream ends. The three
 * deadlines share one `DeadlineTimer`: a chunk only moves a deadline.
 *
 * It reads the provider's answer in batches (see `chunkBatchesOf`: the chunks one
 * network read completed, or one chunk each from a provider that offers no
 * batches), so a long stream costs one step per network read. `nextBatch()` hands
 * a batch over whole; `next()` takes its chunks one by one, and whatever of a batch
 * `next()` has not taken yet is what the next `nextBatch()` returns.
 */
export class TimedAttempt {
  readonly control = new CallControl();
  readonly startedAt = performance.now();
  #batches: AsyncIterator<readonly Chunk[]> | undefined;
  /** The batch `next()` is taking chunks from, and the position of its next chunk. */
  #buffered: readonly Chunk[] = noChunks;
  #position = 0;
  #failure: unknown;
  #hasFailure = false;
  #pending = false;
  #done = false;
  #receivedChunk = false;
  #resolve: ((result: IteratorResult<readonly Chunk[]>) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  /** The reader of a pending `read()` (a pending `nextBatch()` has `#resolve` instead). */
  #reader: BatchReader | undefined;
  /** The first chunk (then the gap to the next) and the whole attempt, on one timer. */
  #deadlines: DeadlineTimer | undefined;
  readonly #parentSignal: AbortSource | undefined;
  readonly #label: string;
  readonly #timeouts: AttemptTimeouts;
  #onEnd: (() => void) | undefined;

  constructor(
    provider: Provider,
    model: string,
    messages: Messages,
    options: ProviderOptions,
    parentSignal: AbortSource | undefined,
    timeouts: AttemptTimeouts,
    /** Called once when the attempt ends, however it ends (the in-flight counts). */
    onEnd?: () => void,
  ) {
    this.#onEnd = onEnd;
    this.#label = provider.label;
    this.#timeouts = timeouts;
    this.#parentSignal = parentSignal;
    if (parentSignal?.aborted) {
      this.#fail(new AbortError({ provider: this.#label, cause: parentSignal.reason }));
      return;
    }
    parentSignal?.addEventListener("abort", this.#onParentAbort, { once: true });
    this.#deadlines = new DeadlineTimer(
      timeouts.firstChunkMs,
      timeouts.totalMs,
      { onPhase: this.#onPhaseDeadline, onTotal: () => this.#timeout("total", timeouts.totalMs) },
      this.control.clock,
    );
    try {
      const result = provider.createAsyncGenerator(
        model,
        messages,
        withCallControl(options, this.control),
      );
      this.#batches = chunkBatchesOf(result)[Symbol.asyncIterator]();
    } catch (error) {
      this.#fail(error);
    }
  }

  /** The next chunk; rejects with the provider's error, a `TimeoutError` or an `AbortError`. */
  next(): Promise<IteratorResult<Chunk>> {
    if (this.#hasFailure) return Promise.reject(this.#failure);
    if (this.#position < this.#buffered.length) {
      return Promise.resolve({ done: false, value: this.#buffered[this.#position++] as Chunk });
    }
    return this.nextBatch().then(this.#firstOfBatch);
  }

  readonly #firstOfBatch = (
    result: IteratorResult<readonly Chunk[]>,
  ): IteratorResult<Chunk> | Promise<IteratorResult<Chunk>> => {
    if (result.done) return result;
    this.#buffered = result.value;
    this.#position = 0;
    // An empty batch (a provider's own batches may have one) says nothing: read on.
    if (result.value.length === 0) return this.next();
    return { done: false, value: result.value[this.#position++] as Chunk };
  };

  /**
   * The chunks one network read of the provider completed (or, first, what `next()`
   * left of the last batch); rejects as `next()` does. A failure wins over chunks
   * not yet handed over, as it did chunk by chunk.
   */
  nextBatch(): Promise<IteratorResult<readonly Chunk[]>> {
    if (this.#hasFailure) return Promise.reject(this.#failure);
    if (this.#position < this.#buffered.length)
      return Promise.resolve({ done: false, value: this.takeBuffered() });
    if (this.#done || this.#batches === undefined) return Promise.resolve(doneResult);
    this.#reader = undefined;
    const promise = new Promise<IteratorResult<readonly Chunk[]>>(this.#capture);
    this.#readProvider();
    return promise;
  }

  /**
   * `nextBatch()` without its promise: the same outcome, told to `reader` (see
   * {@link BatchReader}). The wrapper promise of `nextBatch()` is what fails a
   * pending read when a provider ignores its abort; here the reader's `fail` is
   * called instead, the same way. The outcomes that `nextBatch()` settles at once
   * (a failure, what `next()` left, the end) are told a microtask later, as an
   * `await` of them would resume.
   */
  read(reader: BatchReader): void {
    if (this.#hasFailure) {
      const failure = this.#failure;
      queueMicrotask(() => reader.fail(failure));
      return;
    }
    if (this.#position < this.#buffered.length) {
      const rest = this.takeBuffered();
      queueMicrotask(() => reader.batch(rest));
      return;
    }
    if (this.#done || this.#batches === undefined) {
      queueMicrotask(() => reader.end());
      return;
    }
    this.#reader = reader;
    this.#readProvider();
  }

  /**
   * What `next()` (or `keepUnread`) left of the last batch, taken now, without a
   * read; empty when nothing is left, or when the attempt failed (the failure,
   * which wins over chunks not yet handed over, is what the next read gives).
   */
  takeBuffered(): readonly Chunk[] {
    if (this.#hasFailure || this.#position >= this.#buffered.length) return noChunks;
    const rest = this.#position === 0 ? this.#buffered : this.#buffered.slice(this.#position);
    this.#buffered = noChunks;
    this.#position = 0;
    return rest;
  }

  /**
   * Hand `batch` from `position` on back: a reader that took a batch and stopped
   * inside it (the commit point) leaves the rest to the next read, as `next()` does.
   */
  keepUnread(batch: readonly Chunk[], position: number): void {
    this.#buffered = batch;
    this.#position = position;
  }

  /** Ask the provider for its next batch; `#onResult` or `#onError` takes the outcome. */
  #readProvider(): void {
    this.#pending = true;
    if (this.#receivedChunk) this.#deadlines?.movePhase(this.#timeouts.idleMs);
    let read: Promise<IteratorResult<readonly Chunk[]>>;
    try {
      read = (this.#batches as AsyncIterator<readonly Chunk[]>).next();
    } catch (error) {
      // A hand-written iterator that throws rather than rejects: the same failure, a turn later.
      read = Promise.reject(error);
    }
    read.then(this.#onResult, this.#onError);
  }

  /** Stop early (the client left, or the registry moved on): abort the call and release its socket. */
  close(): void {
    if (this.#done) return;
    if (!this.#hasFailure)
      this.#fail(new AbortError({ provider: this.#label, message: "The attempt was stopped" }));
  }

  /** Milliseconds since the attempt started. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  readonly #capture = (
    resolve: (result: IteratorResult<readonly Chunk[]>) => void,
    reject: (error: unknown) => void,
  ): void => {
    this.#resolve = resolve;
    this.#reject = reject;
  };

  readonly #onResult = (result: IteratorResult<readonly Chunk[]>): void => {
    if (this.#hasFailure) return;
    this.#pending = false;
    if (result.done) {
      this.#done = true;
      this.#cleanUp();
    } else if (!this.#receivedChunk && result.value.length > 0) {
      this.#receivedChunk = true;
      this.#deadlines?.movePhase(this.#timeouts.idleMs);
    }
    const reader = this.#reader;
    if (reader === undefined) {
      this.#resolve?.(result);
      return;
    }
    this.#reader = undefined;
    if (result.done) reader.end();
    else reader.batch(result.value);
  };

  readonly #onError = (error: unknown): void => {
    if (this.#hasFailure) return;
    this.#pending = false;
    this.#failure = error;
    this.#hasFailure = true;
    this.#done = true;
    this.#cleanUp();
    const reader = this.#reader;
    if (reader === undefined) {
      this.#reject?.(error);
      return;
    }
    this.#reader = undefined;
    reader.fail(error);
  };

  readonly #onParentAbort = (): void => {
    this.#fail(new AbortError({ provider: this.#label, cause: this.#parentSignal?.reason }));
  };

  readonly #onPhaseDeadline = (): number | undefined => {
    if (!this.#receivedChunk) {
      this.#timeout("first-byte", this.#timeouts.firstChunkMs);
      return undefined;
    }
    // A gap while the registry itself is busy (writing to a slow client) is not the provider's.
    if (!this.#pending) return this.#timeouts.idleMs;
    this.#timeout("idle", this.#timeouts.idleMs);
    return undefined;
  };

  #timeout(phase: "first-byte" | "idle" | "total", timeoutMs: number): void {
    this.#fail(
      new TimeoutError({
        provider: this.#label,
        phase,
        timeoutMs,
        message: `${this.#label} timed out (${phase === "first-byte" ? "first chunk" : phase} timeout of ${timeoutMs} ms)`,
      }),
    );
  }

  #fail(error: unknown): void {
    if (this.#hasFailure) return;
    this.#failure = error;
    this.#hasFailure = true;
    const wasDone = this.#done;
    this.#done = true;
    this.#cleanUp();
    if (!wasDone) {
      this.control.abort(error);
      // Ends the provider's generator (its finally blocks) once its pending step settles.
      if (this.#batches !== undefined) stopIterator(this.#batches);
    }
    if (this.#pending) {
      this.#pending = false;
      const reader = this.#reader;
      this.#reader = undefined;
      // A reader hears of it a microtask later, as the rejected `nextBatch()` is awaited.
      if (reader !== undefined) queueMicrotask(() => reader.fail(error));
      else this.#reject?.(error);
    }
  }

  #cleanUp(): void {
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    onEnd?.();
    this.#deadlines?.stop();
    this.#parentSignal?.removeEventListener("abort", this.#onParentAbort);
  }
}

const noChunks: readonly Chunk[] = [];
const doneResult: IteratorResult<readonly Chunk[]> = { done: true, value: undefined };

function ignore(): void {}

function stopIterator(iterator: AsyncIterator<readonly Chunk[]>): void {
  try {
    iterator.return?.().catch(ignore);
  } catch {
    // A hand-written iterator whose return() throws has nothing left to release.
  }
}
