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

describe("the per-chunk view of a BatchedChunks", () => {
  // Batches that record what their reader did with them.
  function recorded(batches: (readonly Chunk[])[], failAfter = false) {
    const log: string[] = [];
    const answer = new BatchedChunks(() => ({
      [Symbol.asyncIterator]: () => {
        log.push("open");
        let index = 0;
        return {
          next: async () => {
            if (index < batches.length) return { done: false, value: batches[index++] as Chunk[] };
            if (failAfter) throw failure;
            return { done: true, value: undefined };
          },
          return: async () => {
            log.push("return");
            return { done: true, value: undefined };
          },
        };
      },
    }));
    return { answer, log };
  }

  it("hands the chunks of every batch over one by one, empty batches skipped, then its failure", async () => {
    const { answer } = recorded([["a", "b"], [], [new FinishReason("stop")]], true);
    const chunks: Chunk[] = [];
    let error: unknown;
    try {
      for await (const chunk of answer) chunks.push(chunk);
    } catch (caught) {
      error = caught;
    }
    expect(chunks).toEqual(["a", "b", new FinishReason("stop")]);
    expect(error).toBe(failure);
    expect(await answer.next()).toEqual({ done: true, value: undefined });
  });

  it("releases the batches when left in the middle, not before they were opened, and not twice", async () => {
    const early = recorded([["a", "b"]]);
    expect(await early.answer.return("left")).toEqual({ done: true, value: "left" });
    expect(early.log).toEqual([]);

    const middle = recorded([["a", "b"], ["c"]]);
    expect(await middle.answer.next()).toEqual({ done: false, value: "a" });
    expect(await middle.answer.return()).toEqual({ done: true, value: undefined });
    expect(await middle.answer.return()).toEqual({ done: true, value: undefined });
    expect(await middle.answer.next()).toEqual({ done: true, value: undefined });
    expect(middle.log).toEqual(["open", "return"]);
  });

  it("releases the batches on throw() and rejects with the error thrown in", async () => {
    const { answer, log } = recorded([["a", "b"]]);
    await answer.next();
    const thrown = new Error("stop here");
    await expect(answer.throw(thrown)).rejects.toBe(thrown);
    expect(log).toEqual(["open", "return"]);
    expect(await answer.next()).toEqual({ done: true, value: undefined });
  });

  it("answers calls made while one waits in the order they were made", async () => {
    const { answer } = recorded([["a"], ["b"], ["c"]]);
    const results = await Promise.all([answer.next(), answer.next(), answer.next(), answer.next()]);
    expect(results.map((result) => result.value)).toEqual(["a", "b", "c", undefined]);
  });
});

describe("a BatchedChunks that opens another answer", () => {
  it("reads that answer's batched view as it is, through either of its own views", async () => {
    async function* batches(): AsyncGenerator<readonly Chunk[]> {
      yield ["a", "b"];
      yield [new FinishReason("stop")];
    }
    const outer = () => new BatchedChunks(() => new BatchedChunks(batches));
    expect(await readBatches(outer())).toEqual([["a", "b"], [new FinishReason("stop")]]);
    expect(await readChunks(outer())).toEqual(["a", "b", new FinishReason("stop")]);
  });
});
