/** The most candidates whose in-flight counts and latencies are kept; the least recently used go first. */
export const maxTrackedCandidates = 10_000;

/** How much a new time to first content moves the average (an exponentially weighted one). */
const latencyWeight = 0.3;

/** The key of a candidate in the statistics' tables. */
export function candidateKey(provider: string, model: string): string {
  return `${provider}\u0000${model}`;
}

/**
 * In-flight attempts and a moving average of the time to first content per
 * candidate, in this process: what the `least-busy` and `latency` strategies read.
 * Both tables are bounded (a pass-through provider accepts any model name).
 */
export class CandidateStatistics {
  readonly inFlight = new Map<string, number>();
  readonly latency = new Map<string, number>();

  begin(provider: string, model: string): () => void {
    const key = candidateKey(provider, model);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    if (this.inFlight.size > maxTrackedCandidates) forgetIdle(this.inFlight);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const count = (this.inFlight.get(key) ?? 1) - 1;
      if (count <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, count);
    };
  }

  recordFirstContent(provider: string, model: string, elapsedMs: number): void {
    const key = candidateKey(provider, model);
    const previous = this.latency.get(key);
    this.latency.delete(key);
    this.latency.set(
      key,
      previous === undefined ? elapsedMs : previous + latencyWeight * (elapsedMs - previous),
    );
    if (this.latency.size > maxTrackedCandidates) {
      const oldest = this.latency.keys().next().value;
      if (oldest !== undefined) this.latency.delete(oldest);
    }
  }

  inFlightOf(provider: string, model: string): number {
    return this.inFlight.get(candidateKey(provider, model)) ?? 0;
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
