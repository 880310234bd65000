import type { Chunk } from "./response-chunks.js";

/**
 * The key of the batched view of an answer (see {@link ChunkBatchSource}). A
 * `Symbol.for`, so that a registry and a provider built on two copies of the core
 * still agree on it.
 */
export const chunkBatches: unique symbol = Symbol.for("g4f-ts.chunkBatches");

/**
 * An answer that can also be read in batches: the same chunks, in the same order,
 * as arrays of the chunks that the network reads already received completed (one
 * read's, or those of every piece that was waiting when the reader asked). It is an optional part
 * of the provider contract: `createAsyncGenerator` returns a plain
 * `AsyncIterable<Chunk>`, and a reader that wants batches asks for them with
 * {@link chunkBatchesOf}, which falls back to batches of one chunk for an answer
 * that offers none. A long stream then costs one asynchronous step per network
 * read instead of one per chunk at every layer it crosses (provider, retries,
 * pipeline, registry).
 *
 * The two views are one answer: read it through one of them, once. Each batch is
 * a fresh array (never empty from the core's readers; a reader must still accept an
 * empty one), which the reader may keep. An error comes after the batch of the
 * chunks before it, never instead of them, just as the per-chunk view throws it
 * after those chunks; leaving early (`return()`) releases the answer's socket as it
 * does in the per-chunk view.
 */
export interface ChunkBatchSource {
  [chunkBatches](): AsyncIterator<readonly Chunk[]>;
}

/** True when `answer` offers a batched view. */
export function hasChunkBatches(answer: unknown): answer is ChunkBatchSource {
  return (
    typeof answer === "object" &&
    answer !== null &&
    typeof (answer as Partial<ChunkBatchSource>)[chunkBatches] === "function"
  );
}

/**
 * The batches of any answer: its own batched view when it offers one, otherwise its
 * chunks one by one, each as a batch of one (an adapter that adds no generator of
 * its own). Either way, the chunks, their order, the errors and the release of the
 * answer are those of the per-chunk view.
 */
export function chunkBatchesOf(answer: AsyncIterable<Chunk>): AsyncIterable<readonly Chunk[]> {
  return new ChunkBatchesView(answer);
}

// A class rather than an object literal with a computed key: it is made per call at
// every layer, and the literal cost several times as much.
class ChunkBatchesView implements AsyncIterable<readonly Chunk[]> {
  readonly #answer: AsyncIterable<Chunk>;

  constructor(answer: AsyncIterable<Chunk>) {
    this.#answer = answer;
  }

  [Symbol.asyncIterator](): AsyncIterator<readonly Chunk[]> {
    const answer = this.#answer;
    return hasChunkBatches(answer)
      ? answer[chunkBatches]()
      : new SingleChunkBatches(answer[Symbol.asyncIterator]());
  }
}

/** The per-chunk view of an answer as batches of one chunk. */
class SingleChunkBatches implements AsyncIterator<readonly Chunk[]> {
  readonly #chunks: AsyncIterator<Chunk>;

  constructor(chunks: AsyncIterator<Chunk>) {
    this.#chunks = chunks;
  }

  next(): Promise<IteratorResult<readonly Chunk[]>> {
    return this.#chunks.next().then(toBatchResult);
  }

  async return(): Promise<IteratorResult<readonly Chunk[]>> {
    await this.#chunks.return?.();
    return { done: true, value: undefined };
  }
}

function toBatchResult(result: IteratorResult<Chunk>): IteratorResult<readonly Chunk[]> {
  return result.done ? { done: true, value: undefined } : { done: false, value: [result.value] };
}

/**
 * An answer that is both views at once: an `AsyncGenerator` of chunks for every
 * existing reader (`for await`, `next()`, `return()`), and a {@link ChunkBatchSource}
 * for the readers that take batches. `open` makes the batches; it is called once,
 * lazily: at the first read of the per-chunk view, or when the batched view is
 * opened (`[chunkBatches]()`, which a reader calls right before it reads), so that
 * (as with an async generator) a call does nothing until it is read, and its errors
 * (one `open` throws too) surface on the first read.
 *
 * @example
 * createAsyncGenerator(model, messages, options) {
 *   return new BatchedChunks(() => this.#answerBatches(model, messages, options));
 * }
 */
export class BatchedChunks implements AsyncGenerator<Chunk>, ChunkBatchSource {
  #open: (() => BatchesOfAnswer) | undefined;
  #chunks: AsyncGenerator<Chunk> | undefined;

  constructor(open: () => BatchesOfAnswer) {
    this.#open = open;
  }

  [chunkBatches](): AsyncIterator<readonly Chunk[]> {
    return batchIteratorOf(this.#take());
  }

  [Symbol.asyncIterator](): AsyncGenerator<Chunk> {
    return this;
  }

  next(): Promise<IteratorResult<Chunk>> {
    return this.#perChunk().next();
  }

  return(value?: unknown): Promise<IteratorResult<Chunk>> {
    return this.#perChunk().return(value);
  }

  throw(error?: unknown): Promise<IteratorResult<Chunk>> {
    return this.#perChunk().throw(error);
  }

  // The per-chunk view is a generator over the batches, made at its first use: a
  // reader of batches never pays for it.
  #perChunk(): AsyncGenerator<Chunk> {
    this.#chunks ??= new ChunksOfBatches(this.#take());
    return this.#chunks;
  }

  #take(): BatchesOfAnswer {
    const open = this.#open;
    if (open === undefined) {
      throw new TypeError("This answer is already being read: read it through one view, once");
    }
    this.#open = undefined;
    try {
      return open();
    } catch (error) {
      // As an async generator does, a failure to begin surfaces on the first read.
      return failedBatches(error);
    }
  }
}

/**
 * What `BatchedChunks` opens: batches, or another answer's batched view, which is
 * then read as it is (a provider's `open` may return its pipeline's answer without
 * a `chunkBatchesOf` view around it).
 */
export type BatchesOfAnswer = AsyncIterable<readonly Chunk[]> | ChunkBatchSource;

function batchIteratorOf(batches: BatchesOfAnswer): AsyncIterator<readonly Chunk[]> {
  return hasChunkBatches(batches)
    ? batches[chunkBatches]()
    : (batches as AsyncIterable<readonly Chunk[]>)[Symbol.asyncIterator]();
}

function failedBatches(error: unknown): AsyncIterable<readonly Chunk[]> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  };
}

const noChunks: readonly Chunk[] = [];

/**
 * The per-chunk view of batches: what `async function* () { for await (const batch
 * of batches) for (const chunk of batch) yield chunk; }` does, without a generator:
 * a chunk of a batch already read costs a resolved promise, the next batch one
 * `then` (a generator spent three promises on each chunk). As with the generator,
 * the batches are opened at the first `next()`, a failure ends the view, `return()`
 * releases the batches (once opened) and `throw()` does so before it rejects with
 * its error; a call made while another waits runs after it.
 */
class ChunksOfBatches implements AsyncGenerator<Chunk> {
  readonly #batches: BatchesOfAnswer;
  #iterator: AsyncIterator<readonly Chunk[]> | undefined;
  #batch: readonly Chunk[] = noChunks;
  #position = 0;
  #over = false;
  /** A `next()` waiting for a batch. */
  #waiting: Promise<IteratorResult<Chunk>> | undefined;

  constructor(batches: BatchesOfAnswer) {
    this.#batches = batches;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Chunk> {
    return this;
  }

  next(): Promise<IteratorResult<Chunk>> {
    const waiting = this.#waiting;
    if (waiting !== undefined) return waiting.then(this.#nextAfter, this.#nextAfter);
    if (this.#position < this.#batch.length) {
      return Promise.resolve({ done: false, value: this.#batch[this.#position++] as Chunk });
    }
    if (this.#over) return Promise.resolve(doneChunk);
    let read: Promise<IteratorResult<readonly Chunk[]>>;
    try {
      this.#iterator ??= batchIteratorOf(this.#batches);
      read = this.#iterator.next();
    } catch (error) {
      this.#over = true;
      return Promise.reject(error);
    }
    const next = read.then(this.#onBatch, this.#onFailure);
    this.#waiting = next;
    return next;
  }

  return(value?: unknown): Promise<IteratorResult<Chunk>> {
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      const after = () => this.return(value);
      return waiting.then(after, after);
    }
    return this.#close().then(() => ({ done: true, value }) as IteratorResult<Chunk>);
  }

  throw(error?: unknown): Promise<IteratorResult<Chunk>> {
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      const after = () => this.throw(error);
      return waiting.then(after, after);
    }
    // The error wins over a failure to release, as a generator's does.
    return this.#close().then(
      () => Promise.reject(error),
      () => Promise.reject(error),
    );
  }

  // Ends the view; releases the batches when they were opened and not read to their end.
  async #close(): Promise<void> {
    const iterator = this.#iterator;
    const open = !this.#over && iterator !== undefined;
    this.#over = true;
    this.#batch = noChunks;
    if (open) await iterator.return?.();
  }

  readonly #nextAfter = (): Promise<IteratorResult<Chunk>> => this.next();

  readonly #onBatch = (
    result: IteratorResult<readonly Chunk[]>,
  ): IteratorResult<Chunk> | Promise<IteratorResult<Chunk>> => {
    this.#waiting = undefined;
    if (result.done) {
      this.#over = true;
      return doneChunk;
    }
    this.#batch = result.value;
    this.#position = 0;
    // An empty batch says nothing: read on.
    if (result.value.length === 0) return this.next();
    return { done: false, value: result.value[this.#position++] as Chunk };
  };

  readonly #onFailure = (error: unknown): never => {
    this.#waiting = undefined;
    this.#over = true;
    throw error;
  };
}

const doneChunk: IteratorResult<Chunk> = { done: true, value: undefined };
