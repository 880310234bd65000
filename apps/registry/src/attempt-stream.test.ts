import {
  AbortError,
  BatchedChunks,
  type Chunk,
  callControlKey,
  FinishReason,
  type ProviderOptions,
  ResponseMetadata,
  ResponseStatusError,
  TimeoutError,
} from "@g4f-ts/provider-core";
import { callControlOf, callOptionsShape } from "@g4f-ts/provider-core/internal";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { InMemoryProvider } from "../test-support/in-memory-provider.js";
import { type BatchReader, TimedAttempt } from "./attempt-stream.js";
import { type AttemptTimeouts, defaultAttemptTimeouts } from "./config.js";
import { RequestAbort } from "./request-abort.js";

const failure = new ResponseStatusError({ provider: "batches", status: 502, message: "cut" });

/** An in-memory provider of the model `batch-1`. */
abstract class BatchModelProvider extends InMemoryProvider {
  constructor() {
    super("batches", "batch-1");
  }
}

/** Answers with the given batches (then `failure`, when `fails`). */
class BatchProvider extends BatchModelProvider {
  constructor(
    readonly batches: (readonly Chunk[])[],
    readonly fails = false,
  ) {
    super();
  }

  createAsyncGenerator(): BatchedChunks {
    const { batches, fails } = this;
    return new BatchedChunks(async function* () {
      yield* batches;
      if (fails) throw failure;
    });
  }
}

/** Answers one chunk at a time, without a batched view. */
class ChunkProvider extends BatchModelProvider {
  constructor(readonly chunks: Chunk[]) {
    super();
  }

  async *createAsyncGenerator(): AsyncGenerator<Chunk> {
    yield* this.chunks;
  }
}

function attemptOf(provider: InMemoryProvider): TimedAttempt {
  return new TimedAttempt(
    provider,
    "batch-1",
    [{ role: "user", content: "Hi" }],
    {},
    undefined,
    defaultAttemptTimeouts,
  );
}

const metadata = new ResponseMetadata({ id: "answer-1" });

describe("an attempt read in batches", () => {
  it("hands over a provider's batches whole, and after next() took some chunks the rest of that batch", async () => {
    const attempt = attemptOf(
      new BatchProvider([
        [metadata, "Hel", "lo"],
        [" world", new FinishReason("stop")],
      ]),
    );
    expect(await attempt.next()).toEqual({ done: false, value: metadata });
    expect(await attempt.next()).toEqual({ done: false, value: "Hel" });
    expect(await attempt.nextBatch()).toEqual({ done: false, value: ["lo"] });
    expect(await attempt.nextBatch()).toEqual({
      done: false,
      value: [" world", new FinishReason("stop")],
    });
    expect((await attempt.nextBatch()).done).toBe(true);
    expect((await attempt.next()).done).toBe(true);
  });

  it("reads a provider without batches one chunk a batch", async () => {
    const attempt = attemptOf(new ChunkProvider([metadata, "Hi"]));
    expect(await attempt.nextBatch()).toEqual({ done: false, value: [metadata] });
    expect(await attempt.nextBatch()).toEqual({ done: false, value: ["Hi"] });
    expect((await attempt.nextBatch()).done).toBe(true);
  });

  it("fails after the batch of the chunks that came before the provider's error", async () => {
    const attempt = attemptOf(new BatchProvider([[metadata, "partial"]], true));
    expect(await attempt.nextBatch()).toEqual({ done: false, value: [metadata, "partial"] });
    await expect(attempt.nextBatch()).rejects.toBe(failure);
  });

  it("fails rather than hand over the rest of a batch once it was stopped", async () => {
    const attempt = attemptOf(new BatchProvider([["a", "b", "c"]]));
    expect(await attempt.next()).toEqual({ done: false, value: "a" });
    attempt.close();
    await expect(attempt.next()).rejects.toThrow(/stopped/);
    await expect(attempt.nextBatch()).rejects.toThrow(/stopped/);
  });

  it("hands over at once what next() left of a batch, nothing twice, and nothing once it was stopped", async () => {
    const attempt = attemptOf(
      new BatchProvider([
        ["a", "b", "c"],
        ["d", "e"],
      ]),
    );
    expect(attempt.takeBuffered()).toEqual([]);
    expect(await attempt.next()).toEqual({ done: false, value: "a" });
    expect(attempt.takeBuffered()).toEqual(["b", "c"]);
    expect(attempt.takeBuffered()).toEqual([]);
    expect(await attempt.nextBatch()).toEqual({ done: false, value: ["d", "e"] });
    const stopped = attemptOf(new BatchProvider([["a", "b"]]));
    expect(await stopped.next()).toEqual({ done: false, value: "a" });
    stopped.close();
    expect(stopped.takeBuffered()).toEqual([]);
    await expect(stopped.nextBatch()).rejects.toThrow(/stopped/);
  });
});

/**
 * A provider written against `signal` alone (before `CallControl`): it reads its
 * options as a strict reader of names would, waits for its signal, and fails as
 * such a provider does when it aborts.
 */
class SignalOnlyProvider extends BatchModelProvider {
  signal: AbortSignal | undefined;
  readonly optionNames: string[] = [];

  createAsyncGenerator(_model?: string, _messages?: unknown, options?: ProviderOptions) {
    // What the core's CallPipeline did before the control existed: copy, then refuse unknown names.
    const read = z.strictObject(callOptionsShape).parse({ ...options });
    this.optionNames.push(...Object.keys(read));
    const signal = read.signal ?? undefined;
    this.signal = signal;
    const label = this.label;
    return (async function* () {
      if (signal === undefined) throw new Error("no signal");
      await new Promise<void>((_resolve, reject) =>
        signal.addEventListener("abort", () => reject(new AbortError({ provider: label })), {
          once: true,
        }),
      );
      yield "never";
    })();
  }
}

/** A provider that only looks at what the attempt hands it. */
class ControlReadingProvider extends BatchModelProvider {
  options: ProviderOptions | undefined;

  async *createAsyncGenerator(
    _model?: string,
    _messages?: unknown,
    options?: ProviderOptions,
  ): AsyncGenerator<Chunk> {
    this.options = options;
    yield "Hi";
  }
}

function timedAttempt(
  provider: InMemoryProvider,
  timeouts: AttemptTimeouts = defaultAttemptTimeouts,
  parent?: RequestAbort,
): TimedAttempt {
  return new TimedAttempt(
    provider,
    "batch-1",
    [{ role: "user", content: "Hi" }],
    { stream: true },
    parent,
    timeouts,
  );
}

describe("an attempt's cancellation", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("hands a provider of the core its CallControl, without making an AbortSignal", async () => {
    const provider = new ControlReadingProvider();
    const attempt = timedAttempt(provider);
    expect(await attempt.next()).toEqual({ done: false, value: "Hi" });
    const options = provider.options as ProviderOptions;
    expect(callControlOf(options)).toBe(attempt.control);
    expect(options[callControlKey]).toBe(attempt.control);
    expect(options.stream).toBe(true);
    attempt.close();
    expect(attempt.control.aborted).toBe(true);
  });

  it("gives a provider written against signal alone an AbortSignal aborted with the first-chunk timeout's error", async () => {
    vi.useFakeTimers();
    const provider = new SignalOnlyProvider();
    const attempt = timedAttempt(provider, { ...defaultAttemptTimeouts, firstChunkMs: 50 });
    const reading = attempt.next().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(60);
    const error = await reading;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/first chunk timeout of 50 ms/);
    expect(provider.signal?.aborted).toBe(true);
    expect(provider.signal?.reason).toBe(error);
    // Its strict reader saw the names it knows, and no unknown one.
    expect(provider.optionNames.sort()).toEqual(["signal", "stream"]);
  });

  it("aborts the signal of a provider written against signal alone when the client leaves", async () => {
    const provider = new SignalOnlyProvider();
    const parent = new RequestAbort();
    const attempt = timedAttempt(provider, defaultAttemptTimeouts, parent);
    const reading = attempt.next().catch((error: unknown) => error);
    const reason = new AbortError({ message: "The client closed the request" });
    parent.abort(reason);
    const error = await reading;
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).cause).toBe(reason);
    expect(provider.signal?.aborted).toBe(true);
    expect(provider.signal?.reason).toBe(error);
  });
});

/** What a `BatchReader` was told, in order, and whether any of it came inside `read()`. */
class RecordingReader implements BatchReader {
  readonly told: unknown[] = [];
  insideRead = false;
  toldInsideRead = false;
  #waiting: (() => void) | undefined;

  batch(chunks: readonly Chunk[]): void {
    this.#note({ batch: chunks });
  }

  end(): void {
    this.#note("end");
  }

  fail(error: unknown): void {
    this.#note({ fail: error });
  }

  /** Read once from `attempt`, resolving when the reader was told its outcome. */
  readFrom(attempt: TimedAttempt): Promise<void> {
    const told = new Promise<void>((resolve) => {
      this.#waiting = resolve;
    });
    this.insideRead = true;
    attempt.read(this);
    this.insideRead = false;
    return told;
  }

  #note(outcome: unknown): void {
    if (this.insideRead) this.toldInsideRead = true;
    this.told.push(outcome);
    this.#waiting?.();
  }
}

/** Never answers, and does not look at its cancellation (a provider that ignores its abort). */
class DeafProvider extends BatchModelProvider {
  createAsyncGenerator(): AsyncIterable<Chunk> {
    return {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Chunk>>(() => {}) }),
    };
  }
}

describe("an attempt read with callbacks (read)", () => {
  it("tells its reader each batch, then the end, as nextBatch() resolves them, never inside read()", async () => {
    const attempt = attemptOf(
      new BatchProvider([
        [metadata, "Hel", "lo"],
        [" world", new FinishReason("stop")],
      ]),
    );
    const reader = new RecordingReader();
    await reader.readFrom(attempt);
    await reader.readFrom(attempt);
    await reader.readFrom(attempt);
    expect(reader.told).toEqual([
      { batch: [metadata, "Hel", "lo"] },
      { batch: [" world", new FinishReason("stop")] },
      "end",
    ]);
    // Read again after the end: the end again, a microtask later.
    await reader.readFrom(attempt);
    expect(reader.told.at(-1)).toBe("end");
    expect(reader.toldInsideRead).toBe(false);
  });

  it("tells the provider's error after the batch of the chunks before it", async () => {
    const attempt = attemptOf(new BatchProvider([[metadata, "partial"]], true));
    const reader = new RecordingReader();
    await reader.readFrom(attempt);
    await reader.readFrom(attempt);
    expect(reader.told).toEqual([{ batch: [metadata, "partial"] }, { fail: failure }]);
  });

  it("fails a pending read when the attempt is stopped, though the provider ignores its abort", async () => {
    const attempt = attemptOf(new DeafProvider());
    const reader = new RecordingReader();
    const told = reader.readFrom(attempt);
    attempt.close();
    // Not inside close(): a microtask later, as an awaited nextBatch() would resume.
    expect(reader.told).toEqual([]);
    await told;
    expect(reader.told).toEqual([{ fail: expect.any(AbortError) }]);
    expect((reader.told[0] as { fail: Error }).fail.message).toMatch(/stopped/);
    expect(attempt.control.aborted).toBe(true);
  });

  it("fails a pending read at the first-chunk timeout, though the provider ignores its abort", async () => {
    vi.useFakeTimers();
    try {
      const attempt = timedAttempt(new DeafProvider(), {
        ...defaultAttemptTimeouts,
        firstChunkMs: 50,
      });
      const reader = new RecordingReader();
      const told = reader.readFrom(attempt);
      await vi.advanceTimersByTimeAsync(60);
      await told;
      expect(reader.told).toEqual([{ fail: expect.any(TimeoutError) }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("hands the unread rest of a batch over first, without a read, and a failure wins over it", async () => {
    const attempt = attemptOf(new BatchProvider([["a", "b", "c"], ["d"]]));
    const reader = new RecordingReader();
    await reader.readFrom(attempt);
    const batch = (reader.told[0] as { batch: readonly Chunk[] }).batch;
    attempt.keepUnread(batch, 1);
    expect(attempt.takeBuffered()).toEqual(["b", "c"]);
    expect(attempt.takeBuffered()).toEqual([]);
    attempt.keepUnread(batch, 2);
    await reader.readFrom(attempt);
    expect(reader.told.at(-1)).toEqual({ batch: ["c"] });
    expect(await attempt.nextBatch()).toEqual({ done: false, value: ["d"] });
    attempt.keepUnread(batch, 0);
    attempt.close();
    expect(attempt.takeBuffered()).toEqual([]);
    await reader.readFrom(attempt);
    expect(reader.told.at(-1)).toEqual({ fail: expect.any(AbortError) });
  });
});
