import type { AdmissionDecision, KeyLimits, LimitState } from "./state-store.js";

/** The per-minute windows are 60 steps of one second: exact counts, bounded memory. */
export const windowSeconds = 60;

/**
 * Counts over the last minute in one-second steps: what was added in the 60 seconds
 * up to now (the current second included). The Redis store's admission script does
 * the same over a hash of seconds, so a replica that goes on alone while Redis is
 * away counts as the shared state would.
 */
export class MinuteWindow {
  readonly #seconds = new Map<number, number>();

  /** The total of the window at `now`, forgetting the seconds before it; and its oldest second. */
  used(now: number): { total: number; oldestSecond: number | undefined } {
    const current = Math.floor(now / 1000);
    let total = 0;
    let oldestSecond: number | undefined;
    for (const [second, count] of this.#seconds) {
      if (second <= current - windowSeconds) this.#seconds.delete(second);
      else {
        total += count;
        if (oldestSecond === undefined || second < oldestSecond) oldestSecond = second;
      }
    }
    return { total, oldestSecond };
  }

  add(now: number, amount: number): void {
    if (amount <= 0) return;
    const second = Math.floor(now / 1000);
    this.#seconds.set(second, (this.#seconds.get(second) ?? 0) + amount);
  }
}

/** Milliseconds until the window's oldest second leaves it. */
export function windowResetMs(oldestSecond: number | undefined, now: number): number {
  return oldestSecond === undefined ? 0 : Math.max(0, (oldestSecond + windowSeconds) * 1000 - now);
}

/** The admission rule, the same in process and in the Redis script. */
export function decideAdmission(
  limits: KeyLimits,
  used: {
    requests: number;
    requestsOldest: number | undefined;
    tokens: number;
    tokensOldest: number | undefined;
    concurrent: number;
  },
  now: number,
): AdmissionDecision {
  const refusedBy =
    limits.rpm !== undefined && used.requests >= limits.rpm
      ? "requests"
      : limits.tpm !== undefined && used.tokens >= limits.tpm
        ? "tokens"
        : limits.maxConcurrent !== undefined && used.concurrent >= limits.maxConcurrent
          ? "concurrent"
          : undefined;
  const admitted = refusedBy === undefined;
  const state = (
    limit: number | undefined,
    count: number,
    oldest: number | undefined,
  ): LimitState | undefined =>
    limit === undefined
      ? undefined
      : {
          limit,
          remaining: Math.max(0, limit - count),
          resetMs: windowResetMs(oldest, now),
        };
  const requestsNow = used.requests + (admitted && limits.rpm !== undefined ? 1 : 0);
  const requestsOldest =
    used.requestsOldest ??
    (admitted && limits.rpm !== undefined ? Math.floor(now / 1000) : undefined);
  return {
    refusedBy,
    requests: state(limits.rpm, requestsNow, requestsOldest),
    tokens: state(limits.tpm, used.tokens, used.tokensOldest),
    concurrent:
      limits.maxConcurrent === undefined
        ? undefined
        : {
            limit: limits.maxConcurrent,
            remaining: Math.max(0, limits.maxConcurrent - used.concurrent - (admitted ? 1 : 0)),
            resetMs: 0,
          },
  };
}

/** One key's windows and open requests, in this process. */
class KeyState {
  readonly requests = new MinuteWindow();
  readonly tokens = new MinuteWindow();
  readonly open = new Set<string>();
}

/**
 * The per-key limits of one process: the in-process store's, and the Redis store's
 * while Redis is away. Keys are the configured ones only, so the table is bounded.
 */
export class LocalKeyLimits {
  readonly #keys = new Map<string, KeyState>();

  #state(keyId: string): KeyState {
    let state = this.#keys.get(keyId);
    if (state === undefined) {
      state = new KeyState();
      this.#keys.set(keyId, state);
    }
    return state;
  }

  admit(keyId: string, limits: KeyLimits, requestId: string, now: number): AdmissionDecision {
    const state = this.#state(keyId);
    const requests = state.requests.used(now);
    const tokens = state.tokens.used(now);
    const decision = decideAdmission(
      limits,
      {
        requests: requests.total,
        requestsOldest: requests.oldestSecond,
        tokens: tokens.total,
        tokensOldest: tokens.oldestSecond,
        concurrent: state.open.size,
      },
      now,
    );
    if (decision.refusedBy === undefined) {
      if (limits.rpm !== undefined) state.requests.add(now, 1);
      if (limits.maxConcurrent !== undefined) state.open.add(requestId);
    }
    return decision;
  }

  finish(keyId: string, limits: KeyLimits, requestId: string, tokens: number, now: number): void {
    const state = this.#state(keyId);
    state.open.delete(requestId);
    if (limits.tpm !== undefined) state.tokens.add(now, tokens);
  }
}
