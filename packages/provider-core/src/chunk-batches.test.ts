import { describe, expect, it } from "vitest";
import { BatchedChunks, chunkBatches, chunkBatchesOf, hasChunkBatches } from "./chunk-batches.js";
import { ResponseStatusError } from "./provider-errors.js";
import type { Chunk } from "./response-chunks.js";
import { FinishReason, ResponseMetadata } from "./response-chunks.js";
import { withRetries } from "./retry.js";

async function readBatches(answer: AsyncIterable<Chunk>): Promise<(readonly Chunk[])[]> {
  const batches: (readonly Chunk[])[] = [];
  for await (const batch of chunkBatchesOf(answer)) batches.push(batch);
  return batches;
}

async function readChunks(answer: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of answer) chunks.push(chunk);
  return chunks;
}

const failure = new ResponseStatusError({
  provider: "Example",
  status: 503,
  retryable: true,
  message: "busy",
});

describe("batches of chunks", () => {
  it("reads an answer without batches as batches of one, its error after the chunks before it", async () => {
    async function* plain(): AsyncGenerator<Chunk> {
      yield "a";
      yield "b";
      throw failure;
    }
    const batches: (readonly Chunk[])[] = [];
    let error: unknown;
    try {
      for await (const batch of chunkBatchesOf(plain())) batches.push(batch);
    } catch (caught) {
      error = caught;
    }
    expect(hasChunkBatches(plain())).toBe(false);
    expect(batches).toEqual([["a"], ["b"]]);
    expect(error).toBe(failure);
  });

  it("gives the same chunks, in the same order, through either view of a BatchedChunks", async () => {
    async function* batches(): AsyncGenerator<readonly Chunk[]> {
      yield [new ResponseMetadata({ id: "one" }), "Hel", "lo"];
      yield [new FinishReason("stop")];
    }
    const answer = new BatchedChunks(batches);
    expect(hasChunkBatches(answer)).toBe(true);
    expect(await readBatches(answer)).toEqual([
      [new ResponseMetadata({ id: "one" }), "Hel", "lo"],
      [new FinishReason("stop")],
    ]);
    expect(await readChunks(new BatchedChunks(batches))).toEqual([
      new ResponseMetadata({ id: "one" }),
      "Hel",
      "lo",
      new FinishReason("stop"),
    ]);
  });

  it("does nothing until read, and a failure to begin surfaces on the first read", async () => {
    let opened = 0;
    const answer = new BatchedChunks(() => {
      opened++;
      throw failure;
    });
    expect(opened).toBe(0);
    await expect(answer.next()).rejects.toBe(failure);
    expect(opened).toBe(1);
  });

  it("refuses a second view of one answer rather than calling its upstream twice", async () => {
    async function* batches(): AsyncGenerator<readonly Chunk[]> {
      yield ["a"];
    }
    const answer = new BatchedChunks(batches);
    await answer.next();
    expect(() => answer[chunkBatches]()).toThrow(/already being read/);
  });

  it("releases the answer when the reader of batches leaves early", async () => {
    let released = false;
    async function* batches(): AsyncGenerator<readonly Chunk[]> {
      try {
        yield ["a"];
        yield ["b"];
      } finally {
        released = true;
      }
    }
    for await (const batch of chunkBatchesOf(new BatchedChunks(batches))) {
      expect(batch).toEqual(["a"]);
      break;
    }
    expect(released).toBe(true);
  });

  it("passes the one attempt of a policy without retries on as it is, its error unchanged", async () => {
    const attempts: number[] = [];
    const answer = withRetries(
      (attempt) =>
        new BatchedChunks(async function* () {
          attempts.push(attempt);
          yield [new ResponseMetadata({ id: "only" })];
          throw failure;
        }),
      { provider: "Example", policy: { maxAttempts: 1 } },
    );
    expect(attempts).toEqual([]);
    const batches: (readonly Chunk[])[] = [];
    await expect(
      (async () => {
        for await (const batch of chunkBatchesOf(answer)) batches.push(batch);
      })(),
    ).rejects.toBe(failure);
    expect(attempts).toEqual([1]);
    expect(batches).toEqual([[new ResponseMetadata({ id: "only" })]]);
  });

  it("retries an attempt whose batches held no content, and never one that passed content on", async () => {
    const attempts: number[] = [];
    const retried = withRetries(
      (attempt) =>
        new BatchedChunks(async function* () {
          attempts.push(attempt);
          if (attempt === 1) {
            yield [new ResponseMetadata({ id: "first" })];
            throw failure;
          }
          yield [new ResponseMetadata({ id: "second" }), "text"];
          throw failure;
        }),
      { provider: "Example", policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } },
    );
    const batches: (readonly Chunk[])[] = [];
    let error: unknown;
    try {
      for await (const batch of chunkBatchesOf(retried)) batches.push(batch);
    } catch (caught) {
      error = caught;
    }
    expect(attempts).toEqual([1, 2]);
    expect(batches).toEqual([
      [new ResponseMetadata({ id: "first" })],
      [new ResponseMetadata({ id: "second" }), "text"],
    ]);
    expect(error).toBe(failure);
  });
});
