import { describe, expect, it } from "vitest";
import { BatchedChunks, chunkBatchesOf } from "./chunk-batches.js";
import {
  AbortError,
  ConnectionError,
  MissingAuthError,
  RateLimitError,
  ResponseStatusError,
} from "./provider-errors.js";
import { type Chunk, FinishReason, Reasoning } from "./response-chunks.js";
import { retryDelayMs, withRetries } from "./retry.js";

const fast = { baseDelayMs: 1, maxDelayMs: 2 };

async function run(
  attempt: (attemptNumber: number) => AsyncIterable<Chunk>,
  policy = fast,
  signal?: AbortSignal,
) {
  const chunks: Chunk[] = [];
  const retries: number[] = [];
  try {
    for await (const chunk of withRetries(attempt, {
      provider: "Example",
      policy,
      signal,
      onRetry: (event) => retries.push(event.attempt),
    })) {
      chunks.push(chunk);
    }
    return { chunks, retries, error: undefined as unknown };
  } catch (error) {
    return { chunks, retries, error };
  }
}

describe("withRetries", () => {
  it("never retries after reasoning was passed on, so the reasoning is not repeated", async () => {
    let attempts = 0;
    const result = await run(async function* () {
      attempts++;
      yield new Reasoning("think ");
      throw new ResponseStatusError({ provider: "Example", status: 503, retryable: true });
    });
    expect(attempts).toBe(1);
    expect(result.chunks).toEqual([new Reasoning("think ")]);
    expect(ResponseStatusError.isInstance(result.error)).toBe(true);
  });

  it("retries a retryable failure and passes on the answer of the attempt that works", async () => {
    const seen: number[] = [];
    const result = await run(async function* (attemptNumber) {
      seen.push(attemptNumber);
      if (attemptNumber < 3)
        throw new ResponseStatusError({ provider: "Example", status: 503, retryable: true });
      yield "ok";
      yield new FinishReason("stop");
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(result.retries).toEqual([1, 2]);
    expect(result.chunks[0]).toBe("ok");
    expect(result.error).toBeUndefined();
  });

  it("gives up after maxAttempts with the last error", async () => {
    let attempts = 0;
    const result = await run(async function* () {
      attempts++;
      yield* [];
      throw new ConnectionError({ provider: "Example", message: `refused ${attempts}` });
    });
    expect(attempts).toBe(3);
    expect((result.error as Error).message).toBe("refused 3");
  });

  it("does not retry a failure that cannot succeed on retry", async () => {
    let attempts = 0;
    const result = await run(async function* () {
      attempts++;
      yield* [];
      throw new MissingAuthError({ provider: "Example", status: 401 });
    });
    expect(attempts).toBe(1);
    expect(result.error).toBeInstanceOf(MissingAuthError);
  });

  it("never retries once text has been passed on, so no text is repeated", async () => {
    let attempts = 0;
    const result = await run(async function* () {
      attempts++;
      yield "partial";
      throw new ConnectionError({ provider: "Example" });
    });
    expect(attempts).toBe(1);
    expect(result.chunks).toEqual(["partial"]);
    expect(result.error).toBeInstanceOf(ConnectionError);
  });

  it("fails at once when the upstream asks to wait longer than the policy allows", async () => {
    let attempts = 0;
    const result = await run(
      async function* () {
        attempts++;
        yield* [];
        throw new RateLimitError({ provider: "Example", retryAfter: 120 });
      },
      { ...fast, maxRetryAfterMs: 1000 } as typeof fast,
    );
    expect(attempts).toBe(1);
    expect(result.error).toBeInstanceOf(RateLimitError);
  });

  it("ends the backoff wait at once when the signal aborts", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 30);
    const result = await run(
      async function* () {
        yield* [];
        throw new ConnectionError({ provider: "Example" });
      },
      { baseDelayMs: 10_000, maxDelayMs: 10_000 },
      controller.signal,
    );
    expect(result.error).toBeInstanceOf(AbortError);
    // The backoff is at least 5 s (half the step, plus jitter): ending sooner is the abort's doing.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("retryDelayMs", () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };
  const error = new ConnectionError({ provider: "Example" });

  it("doubles the step and keeps the jitter within half to all of it", () => {
    expect(retryDelayMs(error, 1, policy, () => 0)).toBe(50);
    expect(retryDelayMs(error, 1, policy, () => 1)).toBe(100);
    expect(retryDelayMs(error, 3, policy, () => 1)).toBe(400);
    expect(retryDelayMs(error, 10, policy, () => 1)).toBe(1000);
  });

  it("waits for retry-after when it is longer than the backoff", () => {
    expect(
      retryDelayMs(new RateLimitError({ provider: "Example", retryAfter: 2 }), 1, policy, () => 1),
    ).toBe(2000);
    expect(
      retryDelayMs(new RateLimitError({ provider: "Example", retryAfter: 6 }), 1, policy),
    ).toBeUndefined();
  });
});

describe("withRetries' batches", () => {
  it("starts no further attempt once the reader left during the wait before a retry", async () => {
    let attempts = 0;
    let left: Promise<IteratorResult<readonly Chunk[]>> | undefined;
    let batches: AsyncIterator<readonly Chunk[]> | undefined;
    const answer = withRetries(
      // biome-ignore lint/correctness/useYield: an attempt that fails before any chunk
      async function* () {
        attempts++;
        throw new ResponseStatusError({ provider: "Example", status: 503, retryable: true });
      },
      {
        provider: "Example",
        policy: fast,
        // Told before the wait: the reader leaves while it runs.
        onRetry: () => {
          left = batches?.return?.();
        },
      },
    );
    batches = chunkBatchesOf(answer)[Symbol.asyncIterator]();
    expect(await batches.next()).toEqual({ done: true, value: undefined });
    expect(await left).toEqual({ done: true, value: undefined });
    expect(attempts).toBe(1);
  });

  it("passes each attempt's batches on whole, and after the end is done", async () => {
    const answer = withRetries(
      (attemptNumber) =>
        new BatchedChunks(() =>
          (async function* () {
            if (attemptNumber === 1)
              throw new ResponseStatusError({ provider: "Example", status: 503, retryable: true });
            yield ["a", "b"];
            yield [new FinishReason("stop")];
          })(),
        ),
      { provider: "Example", policy: fast },
    );
    const batches = chunkBatchesOf(answer)[Symbol.asyncIterator]();
    expect((await batches.next()).value).toEqual(["a", "b"]);
    expect((await batches.next()).value).toEqual([new FinishReason("stop")]);
    expect(await batches.next()).toEqual({ done: true, value: undefined });
    expect(await batches.next()).toEqual({ done: true, value: undefined });
  });
});
