import { Agent } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { Fault, RecordedRequest } from "@g4f-ts/testkit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ChatOutcome, classifyChatReply } from "../test-support/chat-outcome.js";
import { settledHeapBytes } from "../test-support/forced-gc.js";
import { postJsonExchange } from "../test-support/http-exchange.js";
import { seededRandomFor } from "../test-support/seeded-random.js";
import { type AmigoPair, startAmigoPair } from "./__fixtures__/amigo-pair.js";

/*
 * The soak: tens of thousands of requests through one registry and two AmigoChat
 * upstreams that both fail at random. Each request's faults are drawn from the seed,
 * the request's index and the upstream's name, so a run replays from its seed (the
 * order requests arrive in does not matter; cooldowns, which depend on timing, may
 * still skip an upstream). SOAK_SEED and SOAK_REQUESTS override the defaults. The
 * default run is a short soak; soak.long.test.ts (`pnpm test:long`) runs the full size.
 */

const seed = Number(process.env.SOAK_SEED ?? 5_2026);
const totalRequests = Number(process.env.SOAK_REQUESTS ?? 500);
// A guard against a hang, not a speed claim: ~8 ms a request on a busy 2-core machine, times 4.
vi.setConfig({ testTimeout: Math.max(60_000, totalRequests * 32) });
const warmUpRequests = Math.min(2_000, Math.floor(totalRequests / 10));
const concurrency = 32;
/** Share of upstream calls that get a fault. */
const faultRate = 0.3;
const reply = "Hello from gpt-4o-mini!";
const cooldown = { failureThreshold: 3, durationMs: 100, maxDurationMs: 250 };

/** The faults drawn from, each with its weight and its parameters from the draw. */
const faultMenu: { weight: number; make: (random: () => number) => Fault }[] = [
  { weight: 3, make: () => ({ kind: "status", status: 500 }) },
  { weight: 2, make: () => ({ kind: "status", status: 503, retryAfter: "1" }) },
  { weight: 2, make: () => ({ kind: "status", status: 429 }) },
  { weight: 2, make: () => ({ kind: "status", status: 429, retryAfter: "1" }) },
  { weight: 1, make: () => ({ kind: "html-block" }) },
  { weight: 2, make: () => ({ kind: "drop" }) },
  { weight: 1, make: () => ({ kind: "not-json" }) },
  { weight: 1, make: () => ({ kind: "empty" }) },
  { weight: 2, make: () => ({ kind: "malformed-sse" }) },
  { weight: 1, make: () => ({ kind: "slow-drip", intervalMs: 5 }) },
  { weight: 3, make: (random) => ({ kind: "cut-after", chunks: Math.floor(random() * 5) }) },
  {
    weight: 3,
    make: (random) => ({ kind: "error-in-stream", afterChunks: Math.floor(random() * 5) }),
  },
  { weight: 2, make: (random) => ({ kind: "never-end", afterChunks: Math.floor(random() * 5) }) },
  { weight: 1, make: () => ({ kind: "delay-first-chunk", ms: 1_000 }) },
  { weight: 1, make: () => ({ kind: "delay-headers", ms: 1_000 }) },
];
const totalWeight = faultMenu.reduce((sum, entry) => sum + entry.weight, 0);

function faultFor(index: number, upstream: string): Fault | undefined {
  const random = seededRandomFor(seed, index, upstream);
  if (random() >= faultRate) return undefined;
  let pick = random() * totalWeight;
  for (const entry of faultMenu) {
    pick -= entry.weight;
    if (pick < 0) return entry.make(random);
  }
  return undefined;
}

function requestIndex(request: RecordedRequest): number {
  const content = (request.json as { messages?: { content?: unknown }[] } | undefined)
    ?.messages?.[0]?.content;
  return typeof content === "string" ? Number(content.slice("soak ".length)) : -1;
}

interface Tally {
  requests: number;
  streamed: number;
  complete: { stream: number; json: number };
  completeBy: Record<string, number>;
  errors: Record<string, number>;
  failures: string[];
  faults: Record<string, number>;
  upstreamCalls: { a: number; b: number };
}

function newTally(): Tally {
  return {
    requests: 0,
    streamed: 0,
    complete: { stream: 0, json: 0 },
    completeBy: {},
    errors: {},
    failures: [],
    faults: {},
    upstreamCalls: { a: 0, b: 0 },
  };
}

function count(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

function faultLabel(fault: Fault): string {
  if (fault.kind !== "status") return fault.kind;
  return `status ${fault.status}${fault.retryAfter === undefined ? "" : " + retry-after"}`;
}

function faultPlanFor(upstream: "a" | "b", tally: () => Tally) {
  return (request: RecordedRequest): Fault | undefined => {
    const current = tally();
    current.upstreamCalls[upstream]++;
    const fault = faultFor(requestIndex(request), upstream);
    if (fault !== undefined) count(current.faults, faultLabel(fault));
    return fault;
  };
}

function record(tally: Tally, index: number, streamed: boolean, outcome: ChatOutcome): void {
  tally.requests++;
  if (streamed) tally.streamed++;
  switch (outcome.kind) {
    case "complete":
      tally.complete[streamed ? "stream" : "json"]++;
      count(tally.completeBy, outcome.provider);
      return;
    case "error":
      count(
        tally.errors,
        `${outcome.streamed ? "stream error event" : `HTTP ${outcome.status}`} ${outcome.code}`,
      );
      return;
    case "failure":
      tally.failures.push(`#${index} (${streamed ? "stream" : "json"}): ${outcome.why}`);
  }
}

/** Send requests `from`..`to` (exclusive) with `concurrency` in flight, tallying each answer. */
async function drive(pair: AmigoPair, agent: Agent, tally: Tally, from: number, to: number) {
  let next = from;
  const url = `${pair.server.url}/v1/chat/completions`;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const index = next++;
      const streamed = index % 4 === 0;
      const body = {
        model: "gpt-4o-mini",
        stream: streamed,
        messages: [{ role: "user", content: `soak ${index}` }],
      };
      let outcome: ChatOutcome;
      try {
        outcome = classifyChatReply(await postJsonExchange(url, body, agent), reply);
      } catch (error) {
        outcome = { kind: "failure", why: `the request failed: ${(error as Error).message}` };
      }
      record(tally, index, streamed, outcome);
      // The fakes record every request; the soak has no use for them and must not hold them.
      if (index % 256 === 0) {
        pair.a.requests.length = 0;
        pair.b.requests.length = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUnhandled);
});

describe("the soak", () => {
  it(`answers ${totalRequests} requests with random upstream faults, each complete or an explicit error, without leaks`, async () => {
    let tally = newTally();
    const pair = await startAmigoPair({
      fake: { server: { keepAliveTimeoutMs: 1_000 } },
      config: {
        routing: { timeouts: { firstChunkMs: 250, idleMs: 250, totalMs: 5_000 } },
        cooldown,
      },
    });
    pair.a.setFaults(faultPlanFor("a", () => tally));
    pair.b.setFaults(faultPlanFor("b", () => tally));
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    try {
      const startedAt = performance.now();
      await drive(pair, agent, tally, 0, warmUpRequests);
      const warmUp = tally;
      tally = newTally();
      pair.a.requests.length = 0;
      pair.b.requests.length = 0;
      const heapAfterWarmUp = settledHeapBytes();

      await drive(pair, agent, tally, warmUpRequests, totalRequests);
      const seconds = (performance.now() - startedAt) / 1000;
      agent.destroy();
      while (pair.server.openRequests() > 0) await sleep(10);
      const socketsAtEnd = pair.a.openConnections() + pair.b.openConnections();
      // Pooled keep-alive sockets close after the upstreams' 1 s idle timeout; a socket
      // the registry forgot (an abandoned attempt) would stay open and fail this.
      await pair.a.waitForConnectionsClosed(15_000);
      await pair.b.waitForConnectionsClosed(15_000);
      pair.a.requests.length = 0;
      pair.b.requests.length = 0;
      const heapAtEnd = settledHeapBytes();

      const failures = [...warmUp.failures, ...tally.failures];
      const summary = {
        seed,
        requests: warmUp.requests + tally.requests,
        streamed: warmUp.streamed + tally.streamed,
        seconds: Math.round(seconds * 10) / 10,
        requestsPerSecond: Math.round((warmUp.requests + tally.requests) / seconds),
        total: {
          complete:
            warmUp.complete.stream +
            warmUp.complete.json +
            tally.complete.stream +
            tally.complete.json,
          explicitErrors: [...Object.values(warmUp.errors), ...Object.values(tally.errors)].reduce(
            (sum, errors) => sum + errors,
            0,
          ),
          failures: failures.length,
        },
        afterWarmUp: {
          complete: tally.complete,
          completeBy: tally.completeBy,
          explicitErrors: tally.errors,
          failures: tally.failures.length,
          upstreamCalls: tally.upstreamCalls,
          faultsInjected: tally.faults,
        },
        warmUp: {
          requests: warmUp.requests,
          complete: warmUp.complete,
          explicitErrors: warmUp.errors,
          failures: warmUp.failures.length,
        },
        unhandledRejections: unhandled.length,
        upstreamSocketsAtLastAnswer: socketsAtEnd,
        upstreamSocketsAfterIdle: pair.a.openConnections() + pair.b.openConnections(),
        heapAfterWarmUpMB: Math.round(heapAfterWarmUp / 1e5) / 10,
        heapAtEndMB: Math.round(heapAtEnd / 1e5) / 10,
      };
      console.log(`soak: ${JSON.stringify(summary, null, 2)}`);
      expect(failures.slice(0, 10)).toEqual([]);
      expect(unhandled).toEqual([]);
      expect(summary.requests).toBe(totalRequests);
      expect(summary.streamed).toBe(totalRequests / 4);
      expect(summary.upstreamSocketsAfterIdle).toBe(0);
      expect(heapAtEnd).toBeLessThan(heapAfterWarmUp * 1.2);

      // Cooldowns recover: once the faults stop, the primary answers again.
      pair.a.setFaults(undefined);
      pair.b.setFaults(undefined);
      await sleep(cooldown.maxDurationMs + 50);
      const after = classifyChatReply(
        await postJsonExchange(`${pair.server.url}/v1/chat/completions`, {
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: "soak done" }],
        }),
        reply,
      );
      expect(after).toEqual({ kind: "complete", streamed: false, provider: "amigo-a" });
    } finally {
      agent.destroy();
      await pair.close();
    }
  });
});
