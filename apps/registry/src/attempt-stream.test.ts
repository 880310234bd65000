import {
  type AsyncGeneratorProvider,
  type AsyncResult,
  BatchedChunks,
  type Chunk,
  FinishReason,
  ModelCatalog,
  ResponseMetadata,
  ResponseStatusError,
} from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import { TimedAttempt } from "./attempt-stream.js";
import { defaultAttemptTimeouts } from "./config.js";

const failure = new ResponseStatusError({ provider: "batches", status: 502, message: "cut" });

/** An in-memory provider of the model `batch-1`. */
abstract class InMemoryProvider extends ModelCatalog implements AsyncGeneratorProvider {
  readonly id = "batches";
  readonly label = "batches";
  readonly url = "http://127.0.0.1";
  readonly working = true;
  readonly supportsStream = true;
  readonly supportsSystemMessage = true;
  readonly supportsMessageHistory = true;
  readonly needsAuth = false;

  constructor() {
    super({ label: "batches", defaultModel: "batch-1", chatModels: ["batch-1"] });
  }

  abstract createAsyncGenerator(): AsyncResult;
}

/** Answers with the given batches (then `failure`, when `fails`). */
class BatchProvider extends InMemoryProvider {
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
class ChunkProvider extends InMemoryProvider {
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
});
