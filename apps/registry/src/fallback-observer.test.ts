import { AbortError, ResponseStatusError } from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import { scriptedProvider } from "./__fixtures__/scripted-provider.js";
import { collectAnswer, FallbackRun } from "./fallback.js";
import type { FallbackObserver } from "./fallback-observer.js";
import { createRegistry } from "./registry.js";

function recorder(): { observer: FallbackObserver; events: string[] } {
  const events: string[] = [];
  const observer: FallbackObserver = {
    attemptSkipped: ({ candidate }) => events.push(`skipped ${candidate.entry.id}`),
    attemptStarted: ({ candidate }) => events.push(`started ${candidate.entry.id}`),
    firstContent: ({ candidate }) => events.push(`first content ${candidate.entry.id}`),
    attemptSucceeded: ({ candidate, promptCharacters }) =>
      events.push(`succeeded ${candidate.entry.id} (${promptCharacters} characters)`),
    attemptFailed: ({ candidate, report, blame }) =>
      events.push(`failed ${candidate.entry.id}: ${report.reason}, blamed on the ${blame}`),
    attemptCancelled: ({ candidate }) => events.push(`cancelled ${candidate.entry.id}`),
    fellBack: ({ candidate }) => events.push(`fell back from ${candidate.entry.id}`),
  };
  return { observer, events };
}

async function registryOf(
  scripts: Record<string, Parameters<typeof scriptedProvider>[0]["script"]>,
) {
  return createRegistry({
    discover: false,
    config: { routing: { retryDelayMs: 0 }, cooldown: { failureThreshold: 1 } },
    providers: Object.entries(scripts).map(([id, script]) => scriptedProvider({ id, script })),
  });
}

/** A chat run of `test-model` answering "Hi", told to `observers`, cancelled by the client's `signal`. */
function chatRunOf(
  registry: Awaited<ReturnType<typeof registryOf>>,
  observers: readonly FallbackObserver[],
  signal?: AbortSignal,
): FallbackRun {
  return new FallbackRun(
    registry.router.resolve("test-model", undefined, "chat"),
    {
      requestedModel: "test-model",
      messages: [{ role: "user", content: "Hi" }],
      options: {},
      signal,
      logger: undefined,
    },
    { ...registry.fallbackSettings, observers },
  );
}

describe("FallbackRun's observers", () => {
  it("reports each attempt and its outcome, in order, to every observer", async () => {
    const registry = await registryOf({
      a: [
        [
          {
            fail: new ResponseStatusError({
              provider: "a",
              status: 503,
              retryable: true,
              message: "a: 503",
            }),
          },
        ],
      ],
      b: [["Hello"]],
    });
    const first = recorder();
    const second = recorder();
    const run = chatRunOf(registry, [first.observer, second.observer]);
    const { answer } = await collectAnswer(run);
    expect(answer.content).toBe("Hello");
    const expected = [
      "started a",
      "failed a: status, blamed on the provider",
      "fell back from a",
      "started b",
      "first content b",
      "succeeded b (2 characters)",
    ];
    expect(first.events).toEqual(expected);
    expect(second.events).toEqual(expected);
    // The run wrote nothing itself: the registry's cooldown observer was not subscribed.
    expect(registry.cooldown.health("a", "test-model").failures).toBe(0);
  });

  it("tells only the observers with a method for an event, in order, and every observer of a list that grew since its last run", async () => {
    const registry = await registryOf({ b: [["one"], ["two"]] });
    const candidates = registry.router.resolve("test-model", undefined, "chat");
    const request = {
      requestedModel: "test-model",
      messages: [{ role: "user" as const, content: "Hi" }],
      options: {},
      signal: undefined,
      logger: undefined,
    };
    const heard: string[] = [];
    const observers: FallbackObserver[] = [
      { firstContent: () => heard.push("first: content") },
      { attemptSucceeded: () => heard.push("first: succeeded") },
      {
        firstContent: () => heard.push("second: content"),
        attemptSucceeded: () => heard.push("second: succeeded"),
      },
    ];
    const settings = { ...registry.fallbackSettings, observers };
    await collectAnswer(new FallbackRun(candidates, request, settings));
    expect(heard.splice(0)).toEqual([
      "first: content",
      "second: content",
      "first: succeeded",
      "second: succeeded",
    ]);
    observers.push({ attemptStarted: () => heard.push("late: started") });
    await collectAnswer(new FallbackRun(candidates, request, settings));
    expect(heard).toEqual([
      "late: started",
      "first: content",
      "second: content",
      "first: succeeded",
      "second: succeeded",
    ]);
  });

  it("makes no event nobody listens to: without observers the prompt is never measured", async () => {
    const registry = await registryOf({ b: [["one"]] });
    const candidates = registry.router.resolve("test-model", undefined, "chat");
    let reads = 0;
    const messages = new Proxy([{ role: "user" as const, content: "Hi" }], {
      get(target, property, receiver) {
        if (property === "0") reads++;
        return Reflect.get(target, property, receiver);
      },
    });
    const request = {
      requestedModel: "test-model",
      messages,
      options: {},
      signal: undefined,
      logger: undefined,
    };
    const quiet = new FallbackRun(candidates, request, {
      ...registry.fallbackSettings,
      observers: [],
    });
    expect((await collectAnswer(quiet)).answer.content).toBe("one");
    expect(reads).toBe(0);
    // The registry's observers hear of the success, with the prompt's length.
    await collectAnswer(registry.run(candidates, request));
    expect(reads).toBeGreaterThan(0);
  });

  it("reports a provider that cools down as skipped, and the registry's cooldown observer counted the failure", async () => {
    const registry = await registryOf({
      a: [
        [
          {
            fail: new ResponseStatusError({
              provider: "a",
              status: 500,
              retryable: true,
              message: "a: 500",
            }),
          },
        ],
      ],
      b: [["one"], ["two"]],
    });
    const candidates = registry.router.resolve("test-model", undefined, "chat");
    const request = {
      requestedModel: "test-model",
      messages: [{ role: "user" as const, content: "Hi" }],
      options: {},
      signal: undefined,
      logger: undefined,
    };
    await collectAnswer(registry.run(candidates, request));
    expect(registry.cooldown.health("a", "test-model").failures).toBe(1);
    const { observer, events } = recorder();
    const run = new FallbackRun(candidates, request, {
      ...registry.fallbackSettings,
      observers: [...registry.fallbackSettings.observers, observer],
    });
    await collectAnswer(run);
    expect(events).toEqual([
      "skipped a",
      "started b",
      "first content b",
      "succeeded b (2 characters)",
    ]);
  });

  it("reports an attempt the client abandoned before its first chunk as cancelled, so every started attempt ends", async () => {
    const registry = await registryOf({ a: [[{ wait: 60_000 }, "never"]] });
    const client = new AbortController();
    const { observer, events } = recorder();
    // The client leaves as soon as the provider is called.
    const leaving: FallbackObserver = { attemptStarted: () => client.abort() };
    const run = chatRunOf(
      registry,
      [...registry.fallbackSettings.observers, observer, leaving],
      client.signal,
    );
    const outcome = await collectAnswer(run).catch((error: unknown) => error);
    expect(AbortError.isInstance(outcome)).toBe(true);
    expect(events).toEqual(["started a", "cancelled a"]);
    // Neither a failure nor a success of the provider; the console's count in flight is back to 0.
    expect(registry.cooldown.health("a", "test-model")).toMatchObject({
      failures: 0,
      successes: 0,
    });
    const traffic = registry.consoleStats.traffic("a");
    expect(traffic.in_flight).toBe(0);
    expect(traffic.series.attempts.at(-1)).toBe(1);
    expect(traffic.series.failures.at(-1)).toBe(0);
  });

  it("tells of a success after the answer was delivered, even when the delivery throws or the client leaves during it", async () => {
    const registry = await registryOf({ a: [["Hello"]] });
    const client = new AbortController();
    const { observer, events } = recorder();
    const runOf = () =>
      chatRunOf(registry, [...registry.fallbackSettings.observers, observer], client.signal);
    // The client leaves while its answer is written: the provider still succeeded.
    await collectAnswer(runOf(), undefined, (candidate, answer) => {
      events.push(`delivered ${answer.content} from ${candidate.entry.id}`);
      client.abort();
    });
    expect(events).toEqual([
      "started a",
      "first content a",
      "delivered Hello from a",
      "succeeded a (2 characters)",
    ]);
    expect(registry.cooldown.health("a", "test-model")).toMatchObject({ successes: 1 });
    expect(registry.consoleStats.traffic("a").in_flight).toBe(0);
  });

  it("tells of a success whose delivery threw, then lets the error through", async () => {
    const registry = await registryOf({ a: [["Hello"]] });
    const { observer, events } = recorder();
    const run = chatRunOf(registry, [observer]);
    const outcome = await collectAnswer(run, undefined, () => {
      throw new Error("the socket is gone");
    }).catch((error: unknown) => error);
    expect((outcome as Error).message).toBe("the socket is gone");
    expect(events).toEqual(["started a", "first content a", "succeeded a (2 characters)"]);
  });

  it("tells of the first content when it comes, before an answer that goes on in a later turn is delivered", async () => {
    const registry = await registryOf({ a: [["Hello", { wait: 20 }, " world"]] });
    const { observer, events } = recorder();
    const run = chatRunOf(registry, [observer]);
    const { answer } = await collectAnswer(run, undefined, () => events.push("delivered"));
    expect(answer.content).toBe("Hello world");
    expect(events).toEqual([
      "started a",
      "first content a",
      "delivered",
      "succeeded a (2 characters)",
    ]);
  });
});
