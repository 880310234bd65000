/** When a failing provider is set aside, and for how long. */
export interface CooldownSettings {
  /** Consecutive failures that start a cooldown. */
  failureThreshold: number;
  durationMs: number;
  /** The longest cooldown, also for a long `retry-after`. */
  maxDurationMs: number;
  /** A failure that carries `retry-after` starts a cooldown at once: the upstream asked for it. */
  honorRetryAfter: boolean;
}

export const defaultCooldownSettings: CooldownSettings = {
  failureThreshold: 3,
  durationMs: 5_000,
  maxDurationMs: 60_000,
  honorRetryAfter: true,
};

/** The health of one provider, as `/v1/providers` and `/metrics` show it. */
export interface ProviderHealth {
  consecutiveFailures: number;
  /** `Date.now()` at which the current cooldown ends, or 0 when none is running. */
  coolingDownUntil: number;
  successes: number;
  failures: number;
  /** The message of the last failure, or undefined after a success. */
  lastError: string | undefined;
}

/**
 * Per-provider consecutive failure counters and cooldowns. After `failureThreshold`
 * consecutive failures a provider is skipped for `durationMs` (or the upstream's
 * `retry-after` when longer, capped at `maxDurationMs`). When the cooldown ends the
 * provider is tried again; one more failure starts a new cooldown at once (the
 * counter is only reset by a success).
 */
export class CooldownTracker {
  readonly #health = new Map<string, ProviderHealth>();

  constructor(
    readonly settings: CooldownSettings = defaultCooldownSettings,
    private readonly now: () => number = Date.now,
  ) {}

  #state(providerId: string): ProviderHealth {
    let state = this.#health.get(providerId);
    if (state === undefined) {
      state = {
        consecutiveFailures: 0,
        coolingDownUntil: 0,
        successes: 0,
        failures: 0,
        lastError: undefined,
      };
      this.#health.set(providerId, state);
    }
    return state;
  }

  /** Milliseconds until the provider's cooldown ends; 0 when it may be tried. */
  remainingMs(providerId: string): number {
    const state = this.#health.get(providerId);
    if (state === undefined || state.coolingDownUntil === 0) return 0;
    return Math.max(state.coolingDownUntil - this.now(), 0);
  }

  recordSuccess(providerId: string): void {
    const state = this.#state(providerId);
    state.successes++;
    state.consecutiveFailures = 0;
    state.coolingDownUntil = 0;
    state.lastError = undefined;
  }

  /**
   * Count a failure; returns the cooldown's length in ms when this failure started
   * one, else 0. `retryAfterSeconds` is the upstream's `retry-after`.
   */
  recordFailure(providerId: string, message: string, retryAfterSeconds?: number): number {
    const state = this.#state(providerId);
    state.failures++;
    state.consecutiveFailures++;
    state.lastError = message;
    const askedToWait = this.settings.honorRetryAfter && retryAfterSeconds !== undefined;
    if (state.consecutiveFailures < this.settings.failureThreshold && !askedToWait) return 0;
    const requestedMs = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000;
    const durationMs = Math.min(
      this.settings.maxDurationMs,
      Math.max(this.settings.durationMs, requestedMs),
    );
    if (durationMs <= 0) return 0;
    state.coolingDownUntil = this.now() + durationMs;
    return durationMs;
  }

  /** A copy of the provider's health (a fresh one for a provider never used). */
  health(providerId: string): ProviderHealth {
    const state = this.#health.get(providerId);
    return state === undefined
      ? {
          consecutiveFailures: 0,
          coolingDownUntil: 0,
          successes: 0,
          failures: 0,
          lastError: undefined,
        }
      : { ...state };
  }
}
