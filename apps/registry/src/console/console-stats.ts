import type { FallbackObserver } from "../fallback-observer.js";

/** The shape of the console's time series: how long a bucket is and how many are kept. */
export interface ConsoleStatsSettings {
  bucketMs: number;
  buckets: number;
}

/** Ten-second buckets over the last ten minutes. */
export const defaultConsoleStatsSettings: ConsoleStatsSettings = { bucketMs: 10_000, buckets: 60 };

/** One provider's series over the window, oldest bucket first. */
export interface ProviderSeries {
  /** `Date.now()` at which the first bucket starts. */
  start: number;
  /** Attempts started in each bucket. */
  attempts: number[];
  /** Attempts that failed in each bucket (before or after their first chunk). */
  failures: number[];
  /** Candidates skipped because the provider was cooling down. */
  skipped: number[];
  /** The mean time to the first content chunk in each bucket, or null when no attempt got there. */
  first_chunk_ms: (number | null)[];
}

/** What the console shows of one provider's traffic. */
export interface ProviderTraffic {
  /** Attempts of this provider running right now. */
  in_flight: number;
  /** Failures over the window, by reason (`status`, `timeout`, `cooldown`, …). */
  recent_failures: Record<string, number>;
  series: ProviderSeries;
}

/** The counters of one bucket of one provider. */
interface Bucket {
  /** Which bucket (`Math.floor(now / bucketMs)`) the slot holds now; slots are reused. */
  number: number;
  attempts: number;
  failures: number;
  skipped: number;
  firstChunkTotalMs: number;
  firstChunkCount: number;
  /** Failures by reason; reasons are a short fixed list (`failureReason`), so this stays small. */
  reasons: Map<string, number>;
}

function emptyBucket(): Bucket {
  return {
    number: -1,
    attempts: 0,
    failures: 0,
    skipped: 0,
    firstChunkTotalMs: 0,
    firstChunkCount: 0,
    reasons: new Map(),
  };
}

/** A fixed ring of buckets: memory does not grow with traffic or with time. */
class ProviderRing {
  readonly #slots: Bucket[];
  inFlight = 0;

  constructor(readonly settings: ConsoleStatsSettings) {
    this.#slots = Array.from({ length: settings.buckets }, emptyBucket);
  }

  /** The bucket of `now`, emptied first when its slot still holds an older one. */
  bucketAt(now: number): Bucket {
    const number = Math.floor(now / this.settings.bucketMs);
    const slot = this.#slots[number % this.settings.buckets] as Bucket;
    if (slot.number !== number) {
      slot.number = number;
      slot.attempts = 0;
      slot.failures = 0;
      slot.skipped = 0;
      slot.firstChunkTotalMs = 0;
      slot.firstChunkCount = 0;
      slot.reasons.clear();
    }
    return slot;
  }

  traffic(now: number): ProviderTraffic {
    const { bucketMs, buckets } = this.settings;
    const newest = Math.floor(now / bucketMs);
    const oldest = newest - buckets + 1;
    const series: ProviderSeries = {
      start: oldest * bucketMs,
      attempts: [],
      failures: [],
      skipped: [],
      first_chunk_ms: [],
    };
    const reasons: Record<string, number> = {};
    for (let number = oldest; number <= newest; number++) {
      const slot = this.#slots[number % buckets] as Bucket;
      const current = slot.number === number;
      series.attempts.push(current ? slot.attempts : 0);
      series.failures.push(current ? slot.failures : 0);
      series.skipped.push(current ? slot.skipped : 0);
      series.first_chunk_ms.push(
        current && slot.firstChunkCount > 0
          ? Math.round(slot.firstChunkTotalMs / slot.firstChunkCount)
          : null,
      );
      if (current)
        for (const [reason, count] of slot.reasons)
          reasons[reason] = (reasons[reason] ?? 0) + count;
    }
    return { in_flight: this.inFlight, recent_failures: reasons, series };
  }
}

/**
 * The console's live view of the traffic: per provider, a bounded ring of time
 * buckets (attempts, failures, cooldown skips, mean time to first chunk, failures by
 * reason) and the attempts in flight. It is fed by the fallback engine's events
 * through `observer()`, like the metrics, and read by `GET /v1/console/stats`.
 */
export class ConsoleStats {
  readonly #rings = new Map<string, ProviderRing>();

  constructor(
    readonly settings: ConsoleStatsSettings = defaultConsoleStatsSettings,
    readonly now: () => number = Date.now,
  ) {}

  #ring(providerId: string): ProviderRing {
    let ring = this.#rings.get(providerId);
    if (ring === undefined) {
      ring = new ProviderRing(this.settings);
      this.#rings.set(providerId, ring);
    }
    return ring;
  }

  /** One provider's traffic over the window (all zeros when it has had none). */
  traffic(providerId: string): ProviderTraffic {
    return this.#ring(providerId).traffic(this.now());
  }

  /** The observer that feeds these series from the fallback engine. */
  observer(): FallbackObserver {
    const bucket = (providerId: string) => this.#ring(providerId).bucketAt(this.now());
    const settle = (providerId: string) => {
      const ring = this.#ring(providerId);
      ring.inFlight = Math.max(0, ring.inFlight - 1);
    };
    return {
      attemptStarted: ({ candidate }) => {
        this.#ring(candidate.entry.id).inFlight++;
        bucket(candidate.entry.id).attempts++;
      },
      attemptSkipped: ({ candidate }) => {
        const slot = bucket(candidate.entry.id);
        slot.skipped++;
        slot.reasons.set("cooldown", (slot.reasons.get("cooldown") ?? 0) + 1);
      },
      firstContent: ({ candidate, elapsedMs }) => {
        const slot = bucket(candidate.entry.id);
        slot.firstChunkTotalMs += elapsedMs;
        slot.firstChunkCount++;
      },
      attemptSucceeded: ({ candidate }) => settle(candidate.entry.id),
      attemptCancelled: ({ candidate }) => settle(candidate.entry.id),
      attemptFailed: ({ candidate, report }) => {
        settle(candidate.entry.id);
        const slot = bucket(candidate.entry.id);
        slot.failures++;
        slot.reasons.set(report.reason, (slot.reasons.get(report.reason) ?? 0) + 1);
      },
    };
  }
}
