/** The most candidates whose in-flight counts and latencies are kept; the least recently used go first. */
export const maxTrackedCandidates = 10_000;

/** How much a new time to first content moves the average (an exponentially weighted one). */
const latencyWeight = 0.3;

/** The keys made so far, by provider and model (bounded like the tables they index). */
const madeKeys = new Map<string, Map<string, string>>();

/**
 * The key of a candidate in the statistics' tables. Made once per candidate: a new
 * string per attempt (its concatenation, then its hash in every table it is looked
 * up in) cost more than the look-ups themselves.
 */
export function candidateKey(provider: string, model: string): string {
  let models = madeKeys.get(provider);
  if (models === undefined) {
    if (madeKeys.size >= maxTrackedCandidates) madeKeys.clear();
    models = new Map();
    madeKeys.set(provider, models);
  }
  let key = models.get(model);
  if (key === undefined) {
    if (models.size >= maxTrackedCandidates) models.clear();
    key = `${provider}\u0000${model}`;
    models.set(model, key);
  }
  return key;
}

/**
 * In-flight attempts and a moving average of the time to first content per
 * candidate, in this process: what the `least-busy` and `latency` strategies read.
 * Both tables are bounded (a pass-through provider accepts any model name).
 */
export class CandidateStatistics {
  /**
   * Attempts in flight by candidate key. A candidate whose last attempt ended keeps
   * its entry, at 0, until the table is full (then `forgetIdle` takes one): deleting
   * it made V8 shrink the table, and the next attempt grow it again, a new table
   * (about 150 bytes) per attempt wherever attempts do not overlap.
   */
  readonly #inFlight = new Map<string, number>();
  readonly latency = new Map<string, number>();
  /** The key `latency` holds last (its most recent): updating it keeps its place as is. */
  #latestLatencyKey: string | undefined;

  /**
   * The candidates with attempts in flight and their counts: a new map of the
   * entries above 0, for the shared state's periodic write, not for a request.
   */
  get inFlight(): ReadonlyMap<string, number> {
    const counts = new Map<string, number>();
    for (const [key, count] of this.#inFlight) if (count > 0) counts.set(key, count);
    return counts;
  }

  begin(provider: string, model: string): () => void {
    const key = candidateKey(provider, model);
    const inFlight = this.#inFlight;
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    if (inFlight.size > maxTrackedCandidates) forgetIdle(inFlight);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      inFlight.set(key, Math.max(0, (inFlight.get(key) ?? 1) - 1));
    };
  }

  recordFirstContent(provider: string, model: string, elapsedMs: number): void {
    const key = candidateKey(provider, model);
    const previous = this.latency.get(key);
    const average =
      previous === undefined ? elapsedMs : previous + latencyWeight * (elapsedMs - previous);
    // Moved to the most recent end (delete, then set) unless it is there already.
    if (key === this.#latestLatencyKey && previous !== undefined) {
      this.latency.set(key, average);
      return;
    }
    this.latency.delete(key);
    this.latency.set(key, average);
    this.#latestLatencyKey = key;
    if (this.latency.size > maxTrackedCandidates) {
      const oldest = this.latency.keys().next().value;
      if (oldest !== undefined) this.latency.delete(oldest);
    }
  }

  inFlightOf(provider: string, model: string): number {
    return this.#inFlight.get(candidateKey(provider, model)) ?? 0;
  }

  latencyOf(provider: string, model: string): number | undefined {
    return this.latency.get(candidateKey(provider, model));
  }
}

function forgetIdle(table: Map<string, number>): void {
  for (const [key, count] of table) {
    if (count <= 0) {
      table.delete(key);
      return;
    }
  }
}
