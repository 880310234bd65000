import {
  BatchedChunks,
  type Chunk,
  ConnectionError,
  ContextLengthExceededError,
  FinishReason,
  MissingAuthError,
  RateLimitError,
  ResponseStatusError,
  TimeoutError,
  Usage,
} from "@g4f-ts/provider-core";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import {
  type ScriptedProvider,
  type ScriptStep,
  scriptedProvider,
} from "./__fixtures__/scripted-provider.js";
import { AnswerCollector } from "./answer-collector.js";
import type { AttemptTimeouts } from "./config.js";
import { collectAnswer, deliverWholeAnswer, FallbackRun } from "./fallback.js";
import type { FallbackObserver } from "./fallback-observer.js";
import type { HttpError } from "./http-errors.js";
import { createRegistry } from "./registry.js";

const unavailable = (provider: string) =>
  new ResponseStatusError({
    provider,
    status: 503,
    retryable: true,
    message: `${provider}: 503 Service Unavailable`,
  });

async function setUp(
  scripts: Record<string, ScriptStep[][]>,
  settings: {
    retriesPerProvider?: number;
    timeouts?: Partial<AttemptTimeouts>;
    failureThreshold?: number;
  } = {},
) {
  const providers: Record<string, ScriptedProvider> = {};
  for (const [id, script] of Object.entries(scripts))
    providers[id] = scriptedProvider({ id, script });
  const registry = await createRegistry({
    discover: false,
    config: {
      routing: {
        retriesPerProvider: settings.retriesPerProvider ?? 0,
        retryDelayMs: 0,
        timeouts: settings.timeouts ?? {},
      },
      cooldown: { failureThreshold: settings.failureThreshold ?? 3 },
    },
    providers: Object.values(providers),
  });
  const start = (signal?: AbortSignal, from: { client?: string; prompt?: string } = {}) =>
    registry.run(registry.router.resolve("test-model", undefined, "chat"), {
      requestedModel: "test-model",
      messages: [{ role: "user", content: from.prompt ?? "Hi" }],
      options: { temperature: 0.2 },
      signal,
      logger: undefined,
      client: from.client,
    });
  return { registry, providers, start };
}

async function text(run: ReturnType<Awaited<ReturnType<typeof setUp>>["start"]>) {
  const { candidate, answer } = await collectAnswer(run);
  return `${candidate.entry.id}: ${answer.content}`;
}

async function failure(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    return error as HttpError;
  }
  throw new Error("expected the run to fail");
}

describe("FallbackRun", () => {
  it("falls back to the next candidate when the first fails before any content", async () => {
    const { start, providers } = await setUp({
      a: [[{ fail: unavailable("a") }]],
      b: [["Hi ", "there"]],
    });
    const run = start();
    expect(await text(run)).toBe("b: Hi there");
    expect(run.failures).toEqual([
      {
        provider: "a",
        model: "test-model",
        status: 503,
        reason: "status",
        message: "a: 503 Service Unavailable",
      },
    ]);
    expect(providers.b?.calls[0]?.options.temperature).toBe(0.2);
  });

  it("counts an answer without content and without an error as a failure", async () => {
    const { start } = await setUp({ a: [[new FinishReason("stop")]], b: [["ok"]] });
    const run = start();
    expect(await text(run)).toBe("b: ok");
    expect(run.failures[0]?.reason).toBe("empty");
  });

  it("hands over the metadata that came before the first content chunk", async () => {
    const { start } = await setUp({
      a: [[new Usage({ promptTokens: 3 }), "Hello", new FinishReason("stop")]],
    });
    const run = start();
    const committed = await run.commit();
    expect(committed.leading).toEqual([expect.any(Usage), "Hello"]);
    expect(await committed.attempt.next()).toEqual({
      done: false,
      value: expect.any(FinishReason),
    });
    expect(await committed.attempt.next()).toEqual({ done: true, value: undefined });
  });

  it("gives up on a first chunk that takes too long and aborts that attempt's signal", async () => {
    const { start, providers } = await setUp(
      { a: [[{ wait: 5_000 }, "late"]], b: [["fast"]] },
      { timeouts: { firstChunkMs: 50 } },
    );
    const run = start();
    expect(await text(run)).toBe("b: fast");
    expect(run.failures[0]).toMatchObject({ provider: "a", reason: "timeout" });
    expect(run.failures[0]?.message).toContain("first chunk timeout of 50 ms");
    expect(providers.a?.calls[0]?.signal?.aborted).toBe(true);
  });

  it("gives up on a stream that goes quiet between chunks (idle timeout)", async () => {
    // The first provider sends metadata, then stalls: the idle timer ends it, long
    // before the (longer) first-chunk timer would have.
    const { start } = await setUp(
      { a: [[new Usage({}), { wait: 20_000 }, "late"]], b: [["ok"]] },
      { timeouts: { firstChunkMs: 10_000, idleMs: 50 } },
    );
    const started = performance.now();
    const run = start();
    expect(await text(run)).toBe("b: ok");
    expect(run.failures[0]?.message).toContain("idle timeout of 50 ms");
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("ends an attempt at its total timeout, also after the commit point", async () => {
    const { start } = await setUp(
      // Short waits before the deadline and a long one across it, so that a slow
      // machine can not move "three" past the deadline: the idle timeout is longer
      // than the total one, so only the total timeout can end the attempt.
      { a: [["one", { wait: 10 }, "two", { wait: 10 }, "three", { wait: 10_000 }, "four"]] },
      { timeouts: { idleMs: 5_000, totalMs: 1_000 } },
    );
    const run = start();
    const committed = await run.commit();
    const received: unknown[] = [...committed.leading];
    await expect(
      (async () => {
        for (;;) {
          const result = await committed.attempt.next();
          if (result.done) return;
          received.push(result.value);
        }
      })(),
    ).rejects.toThrow(/total timeout of 1000 ms/);
    expect(received).toEqual(["one", "two", "three"]);
  });

  it("retries a retryable failure on the same provider when retries are configured", async () => {
    const { start, providers } = await setUp(
      { a: [[{ fail: unavailable("a") }], ["second try"]], b: [["b"]] },
      { retriesPerProvider: 1 },
    );
    const run = start();
    expect(await text(run)).toBe("a: second try");
    expect(providers.a?.calls).toHaveLength(2);
    expect(providers.b?.calls).toHaveLength(0);
  });

  it("does not retry a failure that is not retryable, and moves on", async () => {
    const { start, providers } = await setUp(
      {
        a: [
          [{ fail: new MissingAuthError({ provider: "a", status: 401, message: "a: bad key" }) }],
          ["never"],
        ],
        b: [["b"]],
      },
      { retriesPerProvider: 2 },
    );
    expect(await text(start())).toBe("b: b");
    expect(providers.a?.calls).toHaveLength(1);
  });

  it("moves on after content when nothing was sent yet (a JSON answer)", async () => {
    const { start } = await setUp({
      a: [
        [
          "partial ",
          { fail: new ConnectionError({ provider: "a", message: "a: socket hang up" }) },
        ],
      ],
      b: [["whole answer"]],
    });
    const run = start();
    expect(await text(run)).toBe("b: whole answer");
    expect(run.failures[0]).toMatchObject({ provider: "a", reason: "connection" });
  });

  it("skips a provider in cooldown and says when to retry once all are cooling down", async () => {
    const { start, registry, providers } = await setUp(
      { a: [[{ fail: unavailable("a") }]], b: [[{ fail: unavailable("b") }]] },
      { failureThreshold: 1 },
    );
    const first = await failure(collectAnswer(start()));
    expect(first.status).toBe(502);
    expect(first.code).toBe("all_providers_failed");
    expect(first.headers["x-should-retry"]).toBe("false");
    expect(first.attempts?.map((attempt) => attempt.provider)).toEqual(["a", "b"]);

    const second = await failure(collectAnswer(start()));
    expect(second.status).toBe(503);
    expect(second.code).toBe("providers_cooling_down");
    expect(second.headers["retry-after"]).toBe("5");
    expect(second.attempts?.map((attempt) => attempt.reason)).toEqual(["cooldown", "cooldown"]);
    expect(providers.a?.calls).toHaveLength(1);
    expect(registry.cooldown.remainingMs("a", "test-model")).toBeGreaterThan(0);
  });

  it("answers 429 with the soonest retry-after when every candidate was rate limited", async () => {
    const limited = (provider: string, seconds: number) =>
      new RateLimitError({ provider, retryAfter: seconds, message: "too many requests" });
    const { start } = await setUp({
      a: [[{ fail: limited("a", 7) }]],
      b: [[{ fail: limited("b", 12) }]],
    });
    const error = await failure(collectAnswer(start()));
    expect(error.status).toBe(429);
    expect(error.headers["retry-after"]).toBe("7");
    expect(error.message).toContain("a: too many requests; b: too many requests");
  });

  it("stops at once when the client goes away", async () => {
    const { start, providers } = await setUp({ a: [[{ wait: 5_000 }, "late"]], b: [["b"]] });
    const controller = new AbortController();
    const run = start(controller.signal);
    const answer = collectAnswer(run);
    setTimeout(() => controller.abort(), 30);
    await expect(answer).rejects.toMatchObject({ name: "AbortError" });
    expect(providers.a?.calls[0]?.signal?.aborted).toBe(true);
    expect(providers.b?.calls).toHaveLength(0);
  });

  it("counts attempts, fallbacks and failures in the metrics", async () => {
    const { start, registry } = await setUp({ a: [[{ fail: unavailable("a") }]], b: [["ok"]] });
    await text(start());
    const { metrics } = registry;
    expect(metrics.attempts.value(["a", "failure"])).toBe(1);
    expect(metrics.attempts.value(["b", "success"])).toBe(1);
    expect(metrics.fallbacks.value(["a"])).toBe(1);
    expect(metrics.failures.value(["a", "status"])).toBe(1);
  });
});

describe("FallbackRun's cooldowns between clients", () => {
  const firstChunkTimeout = (provider: string) =>
    new TimeoutError({ provider, phase: "first-byte", timeoutMs: 60_000 });
  /** One provider, so that a cooldown shows as the 503 every other client would get. */
  const lone = (steps: ScriptStep[][]) => ({ a: steps });
  const hugePrompt = "x".repeat(400_000);

  it("does not let one client's failing requests cool a provider down for another client", async () => {
    // The attack: three requests whose 400 KB prompt times out before the first chunk.
    const { start, providers, registry } = await setUp(
      lone([
        [{ fail: firstChunkTimeout("a") }],
        [{ fail: firstChunkTimeout("a") }],
        [{ fail: firstChunkTimeout("a") }],
        ["answer"],
      ]),
    );
    for (let index = 0; index < 3; index++) {
      const error = await failure(
        collectAnswer(start(undefined, { client: "mallory", prompt: hugePrompt })),
      );
      expect(error.status).toBe(502);
    }
    expect(await text(start(undefined, { client: "alice" }))).toBe("a: answer");
    expect(providers.a?.calls).toHaveLength(4);
    expect(registry.cooldown.remainingMs("a", "test-model")).toBe(0);
  });

  it("cools the provider down for the failing client itself", async () => {
    const { start, providers } = await setUp(lone([[{ fail: firstChunkTimeout("a") }]]));
    for (let index = 0; index < 3; index++)
      await failure(collectAnswer(start(undefined, { client: "mallory", prompt: hugePrompt })));
    const fourth = await failure(
      collectAnswer(start(undefined, { client: "mallory", prompt: hugePrompt })),
    );
    expect(fourth.status).toBe(503);
    expect(fourth.code).toBe("providers_cooling_down");
    expect(providers.a?.calls).toHaveLength(3);
  });

  it("cools the provider down for everyone when the same failures come from distinct clients", async () => {
    const { start, providers } = await setUp(lone([[{ fail: firstChunkTimeout("a") }]]));
    for (const client of ["alice", "bob", "carol"])
      await failure(collectAnswer(start(undefined, { client, prompt: hugePrompt })));
    const next = await failure(collectAnswer(start(undefined, { client: "dave" })));
    expect(next.status).toBe(503);
    expect(next.headers["retry-after"]).toBe("5");
    expect(providers.a?.calls).toHaveLength(3);
  });

  it("never counts a failure the request caused, from however many clients", async () => {
    const status = (code: number) =>
      new ResponseStatusError({
        provider: "a",
        status: code,
        retryable: false,
        message: `${code}`,
      });
    const { start, registry } = await setUp(
      lone([
        [{ fail: status(400) }],
        [{ fail: status(413) }],
        [{ fail: status(422) }],
        [
          {
            fail: new ContextLengthExceededError({
              provider: "a",
              status: 400,
              message: "maximum context length is 8192 tokens",
            }),
          },
        ],
        ["fine"],
      ]),
      { failureThreshold: 1 },
    );
    for (const client of ["alice", "bob", "carol", "dave"])
      await failure(collectAnswer(start(undefined, { client })));
    expect(registry.cooldown.health("a", "test-model").consecutiveFailures).toBe(0);
    expect(registry.cooldown.remainingMs("a", "test-model", "erin")).toBe(0);
    expect(await text(start(undefined, { client: "erin" }))).toBe("a: fine");
  });

  it("blames a first-chunk timeout of a prompt much larger than the provider's recent ones on the prompt", async () => {
    // The clock stands still, so the cooldown left is exactly its length.
    vi.useFakeTimers({ toFake: ["Date"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const { start, registry } = await setUp(
      lone([["short answer"], [{ fail: firstChunkTimeout("a") }]]),
    );
    expect(await text(start(undefined, { client: "alice", prompt: "x".repeat(5_000) }))).toBe(
      "a: short answer",
    );
    for (const client of ["mallory", "trudy", "oscar"])
      await failure(collectAnswer(start(undefined, { client, prompt: hugePrompt })));
    expect(registry.cooldown.health("a", "test-model").consecutiveFailures).toBe(0);
    expect(registry.cooldown.remainingMs("a", "test-model", "alice")).toBe(0);
    // The same timeout on a prompt of the usual size is the provider's.
    for (const client of ["bob", "carol", "dave"])
      await failure(collectAnswer(start(undefined, { client, prompt: "x".repeat(5_000) })));
    expect(registry.cooldown.remainingMs("a", "test-model", "alice")).toBe(5_000);
  });

  it("still cools a dead upstream down for everyone, and tries it again once the cooldown ends", async () => {
    vi.useFakeTimers();
    try {
      const { start, providers } = await setUp(
        lone([
          [{ fail: unavailable("a") }],
          [{ fail: unavailable("a") }],
          [{ fail: unavailable("a") }],
          [{ fail: unavailable("a") }],
          ["back"],
        ]),
      );
      await failure(collectAnswer(start(undefined, { client: "alice" })));
      await failure(collectAnswer(start(undefined, { client: "bob" })));
      await failure(collectAnswer(start(undefined, { client: "alice" })));
      const cooling = await failure(collectAnswer(start(undefined, { client: "carol" })));
      expect(cooling.status).toBe(503);
      expect(providers.a?.calls).toHaveLength(3);

      vi.advanceTimersByTime(5_000);
      // Still dead: the first failure after the cooldown starts the next one at once.
      await failure(collectAnswer(start(undefined, { client: "carol" })));
      expect(providers.a?.calls).toHaveLength(4);
      expect((await failure(collectAnswer(start(undefined, { client: "dave" })))).status).toBe(503);

      vi.advanceTimersByTime(5_000);
      expect(await text(start(undefined, { client: "dave" }))).toBe("a: back");
      expect(providers.a?.calls).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });
});

/** A step of a batched answer: a batch, or the error the answer fails with there. */
type BatchStep = readonly Chunk[] | Error;

/** A provider that answers each call with the next of its scripts of batches (the last repeats). */
function batchedProvider(id: string, calls: BatchStep[][]): ScriptedProvider {
  const scripted = scriptedProvider({ id });
  let index = 0;
  return {
    ...scripted,
    createAsyncGenerator() {
      const batches = calls[Math.min(index++, calls.length - 1)] ?? [];
      return new BatchedChunks(async function* () {
        for (const step of batches) {
          if (step instanceof Error) throw step;
          yield step;
        }
      });
    },
  };
}

async function batchedRun(
  providers: ScriptedProvider[],
  routing: { retriesPerProvider?: number; retryDelayMs?: number } = {},
) {
  const registry = await createRegistry({
    discover: false,
    config: { routing: { retriesPerProvider: 0, retryDelayMs: 0, ...routing } },
    providers,
  });
  const events: string[] = [];
  const recorder: FallbackObserver = {
    attemptStarted: ({ candidate }) => events.push(`started ${candidate.entry.id}`),
    firstContent: ({ candidate }) => events.push(`first content ${candidate.entry.id}`),
    attemptSucceeded: ({ candidate }) => events.push(`succeeded ${candidate.entry.id}`),
    attemptFailed: ({ candidate, report }) =>
      events.push(`failed ${candidate.entry.id} ${report.reason}`),
    fellBack: ({ candidate }) => events.push(`fell back from ${candidate.entry.id}`),
  };
  const run = new FallbackRun(
    registry.router.resolve("test-model", undefined, "chat"),
    {
      requestedModel: "test-model",
      messages: [{ role: "user", content: "Hi" }],
      options: {},
      signal: undefined,
      logger: undefined,
    },
    {
      ...registry.fallbackSettings,
      observers: [...registry.fallbackSettings.observers, recorder],
    },
  );
  return { registry, run, events };
}

describe("FallbackRun read in batches, without a promise per step", () => {
  it("commits at the first content inside a batch and leaves the rest of that batch to the attempt's next read", async () => {
    const usage = new Usage({ promptTokens: 3 });
    const { run } = await batchedRun([
      batchedProvider("a", [[[usage, "Hello", " world", new FinishReason("stop")], ["!"]]]),
    ]);
    const committed = await run.commit();
    expect(committed.leading).toEqual([usage, "Hello"]);
    expect(await committed.attempt.nextBatch()).toEqual({
      done: false,
      value: [" world", new FinishReason("stop")],
    });
    expect(await committed.attempt.nextBatch()).toEqual({ done: false, value: ["!"] });
    expect((await committed.attempt.nextBatch()).done).toBe(true);
  });

  it("tells a commitThen listener once, never inside the call: the committed attempt, or the all-failed error", async () => {
    const { run } = await batchedRun([
      batchedProvider("a", [[unavailable("a")]]),
      batchedProvider("b", [[["from b"]]]),
    ]);
    const told: string[] = [];
    let calling = true;
    const committed = new Promise<void>((resolve) => {
      run.commitThen({
        committed: ({ candidate, leading }) => {
          told.push(`${calling ? "inside" : "after"}: ${candidate.entry.id} ${leading.join("")}`);
          resolve();
        },
        failed: () => told.push("failed"),
      });
    });
    calling = false;
    await committed;
    expect(told).toEqual(["after: b from b"]);

    const { run: failing } = await batchedRun([batchedProvider("a", [[unavailable("a")]])]);
    const error = await new Promise<unknown>((resolve) => {
      failing.commitThen({ committed: () => resolve("committed"), failed: resolve });
    });
    expect(error).toMatchObject({ status: 502, code: "all_providers_failed" });
  });

  it("gathers a whole answer across batches, and moves on from an attempt that fails after content, with the same events", async () => {
    const { run, events } = await batchedRun([
      batchedProvider("a", [
        [["par", "tial"], new ConnectionError({ provider: "a", message: "a: reset" })],
      ]),
      batchedProvider("b", [[[new Usage({ promptTokens: 2 }), "who"], ["le"], ["!"]]]),
    ]);
    const { candidate, answer } = await collectAnswer(run);
    expect(candidate.entry.id).toBe("b");
    expect(answer.content).toBe("whole!");
    expect(answer.usage?.promptTokens).toBe(2);
    expect(events).toEqual([
      "started a",
      "first content a",
      "failed a connection",
      "fell back from a",
      "started b",
      "first content b",
      "succeeded b",
    ]);
  });

  it("waits out a retry's delay, then tries the same provider again", async () => {
    const { run, events } = await batchedRun(
      [batchedProvider("a", [[unavailable("a")], [["second try"]]])],
      { retriesPerProvider: 1, retryDelayMs: 1 },
    );
    const { answer } = await collectAnswer(run);
    expect(answer.content).toBe("second try");
    expect(events).toEqual([
      "started a",
      "failed a status",
      "started a",
      "first content a",
      "succeeded a",
    ]);
  });

  it("runs deliverWholeAnswer's settled right before its promise settles, whether the answer came or every candidate failed", async () => {
    const order: string[] = [];
    const { run } = await batchedRun([batchedProvider("a", [[["Hi"]]])]);
    const delivered = deliverWholeAnswer(
      run,
      (candidate) => new AnswerCollector(candidate.entry.id, 1024),
      (_candidate, answer) => order.push(`deliver ${answer.content}`),
      () => order.push(`settled after ${run.failures.length} failures`),
    );
    await delivered.then(() => order.push("resolved"));
    expect(order).toEqual(["deliver Hi", "settled after 0 failures", "resolved"]);

    order.length = 0;
    const { run: failing } = await batchedRun([batchedProvider("a", [[unavailable("a")]])]);
    const refused = deliverWholeAnswer(
      failing,
      (candidate) => new AnswerCollector(candidate.entry.id, 1024),
      () => order.push("deliver"),
      () => order.push(`settled after ${failing.failures.length} failures`),
    );
    await refused.catch((error: HttpError) => order.push(`rejected ${error.status}`));
    expect(order).toEqual(["settled after 1 failures", "rejected 502"]);
  });

  it("tries 1,000 candidates that each fail at once without a deeper stack for each", async () => {
    const providers = Array.from({ length: 1_000 }, (_, index) =>
      batchedProvider(`p${index}`, [[unavailable(`p${index}`)]]),
    );
    const { run } = await batchedRun(providers);
    const error = (await collectAnswer(run).catch((failed: unknown) => failed)) as HttpError;
    expect(error.status).toBe(502);
    expect(run.failures).toHaveLength(1_000);
  });
});
