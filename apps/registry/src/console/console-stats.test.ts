import { describe, expect, it } from "vitest";
import type { FallbackObserver } from "../fallback-observer.js";
import type { AttemptReport } from "../http-errors.js";
import type { Candidate } from "../model-router.js";
import { ConsoleStats } from "./console-stats.js";

function candidateOf(id: string): Candidate {
  return { entry: { id }, model: "m" } as unknown as Candidate;
}

function report(provider: string, reason: string): AttemptReport {
  return { provider, model: "m", status: null, reason, message: reason };
}

/** Drives an observer as the fallback engine would, on a clock the test moves. */
function harness() {
  const clock = { now: 1_000_000 };
  const stats = new ConsoleStats({ bucketMs: 10_000, buckets: 6 }, () => clock.now);
  const observer = stats.observer() as Required<FallbackObserver>;
  const request = {};
  const candidate = candidateOf("a");
  return {
    clock,
    stats,
    start: () => observer.attemptStarted({ candidate, request }),
    firstContent: (elapsedMs: number) => observer.firstContent({ candidate, request, elapsedMs }),
    succeed: () =>
      observer.attemptSucceeded({ candidate, request, elapsedMs: 1, promptCharacters: 2 }),
    fail: (reason: string) =>
      observer.attemptFailed({
        candidate,
        request,
        report: report("a", reason),
        error: new Error(reason),
        blame: "provider",
        retryAfterSeconds: undefined,
        elapsedMs: 1,
      }),
    cancel: () => observer.attemptCancelled({ candidate, request, elapsedMs: 1 }),
    skip: () =>
      observer.attemptSkipped({
        candidate,
        request,
        report: report("a", "cooldown"),
        remainingMs: 1_000,
      }),
  };
}

describe("ConsoleStats", () => {
  it("counts attempts, failures, skips and the mean time to first chunk per bucket, oldest first", () => {
    const { clock, stats, start, firstContent, succeed, fail, skip } = harness();
    start();
    firstContent(100);
    succeed();
    start();
    firstContent(300);
    fail("interrupted");
    clock.now += 10_000;
    start();
    fail("status");
    skip();
    const traffic = stats.traffic("a");
    expect(traffic.series.attempts).toEqual([0, 0, 0, 0, 2, 1]);
    expect(traffic.series.failures).toEqual([0, 0, 0, 0, 1, 1]);
    expect(traffic.series.skipped).toEqual([0, 0, 0, 0, 0, 1]);
    expect(traffic.series.first_chunk_ms).toEqual([null, null, null, null, 200, null]);
    expect(traffic.series.start).toBe((Math.floor(clock.now / 10_000) - 5) * 10_000);
    expect(traffic.recent_failures).toEqual({ interrupted: 1, status: 1, cooldown: 1 });
    expect(traffic.in_flight).toBe(0);
  });

  it("forgets what is older than its window, and keeps the same number of buckets however long it runs", () => {
    const { clock, stats, start, fail } = harness();
    start();
    fail("timeout");
    clock.now += 50_000;
    expect(stats.traffic("a").series.attempts).toEqual([1, 0, 0, 0, 0, 0]);
    clock.now += 10_000;
    expect(stats.traffic("a").series.attempts).toEqual([0, 0, 0, 0, 0, 0]);
    expect(stats.traffic("a").recent_failures).toEqual({});
    // A slot reused a whole window later starts from zero.
    clock.now += 60_000 * 1_000;
    start();
    const traffic = stats.traffic("a");
    expect(traffic.series.attempts).toEqual([0, 0, 0, 0, 0, 1]);
    expect(traffic.series.failures).toHaveLength(6);
  });

  it("counts attempts in flight until each ends, by success, failure or cancel", () => {
    const { stats, start, succeed, fail, cancel } = harness();
    start();
    start();
    start();
    expect(stats.traffic("a").in_flight).toBe(3);
    succeed();
    fail("status");
    expect(stats.traffic("a").in_flight).toBe(1);
    cancel();
    expect(stats.traffic("a").in_flight).toBe(0);
  });

  it("shows a provider without traffic as all zeros", () => {
    const { stats } = harness();
    expect(stats.traffic("quiet")).toMatchObject({
      in_flight: 0,
      recent_failures: {},
      series: {
        attempts: [0, 0, 0, 0, 0, 0],
        first_chunk_ms: [null, null, null, null, null, null],
      },
    });
  });
});
