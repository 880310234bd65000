/** When a failing candidate (a provider's model) is set aside, and for how long. */
export interface CooldownSettings {
  /** Consecutive failures that start a cooldown. */
  failureThreshold: number;
  durationMs: number;
  /** The longest cooldown, also for a long `retry-after`. */
  maxDurationMs: number;
  /** A failure that carries `retry-after` starts a cooldown at once: the upstream asked for it. */
  honorRetryAfter: boolean;
  /**
   * Distinct clients whose failures (since the provider's last success) are needed
   * before the provider cools down for everyone. Below it, a client's failures cool
   * the provider down for that client only. 1 restores the rule of old: any
   * `failureThreshold` failures, from anyone, cool it down for all.
   */
  minDistinctClients: number;
  /** Clients whose own failure counts are kept per provider; the least recent is forgotten first. */
  maxTrackedClients: number;
  /**
   * A timeout before the first content of a prompt more than this many times the
   * largest of the provider's recent successful prompts is blamed on the prompt,
   * not the provider (0 turns the rule off).
   */
  largePromptFactor: number;
  /** …and only when the prompt has at least this many characters. */
  largePromptMinCharacters: number;
}

export const defaultCooldownSettings: CooldownSettings = {
  failureThreshold: 3,
  durationMs: 5_000,
  maxDurationMs: 60_000,
  honorRetryAfter: true,
  minDistinctClients: 2,
  maxTrackedClients: 10_000,
  largePromptFactor: 4,
  largePromptMinCharacters: 32_768,
};

/** How many of a candidate's last successful prompts the large-prompt rule compares against. */
const recentPromptCount = 32;

/**
 * The models whose state is kept per provider, the least recently used forgotten
 * first: a provider that passes any model name through (an OpenAI-compatible
 * upstream without a model list) must not let clients grow the table without bound.
 */
export const maxTrackedModelsPerProvider = 1_024;

/** The health of one candidate (a provider's model), as `/v1/providers` and `/metrics` show it. */
export interface ProviderHealth {
  /** Failures counted against the candidate since its last success, from any client. */
  consecutiveFailures: number;
  /** `Date.now()` at which the current cooldown for everyone ends, or 0 when none is running. */
  coolingDownUntil: number;
  successes: number;
  failures: number;
  /** The message of the last failure, or undefined after a success. */
  lastError: string | undefined;
}

/** The health of one model of a provider. */
export interface ModelHealth extends ProviderHealth {
  /** The provider's own model id. */
  model: string;
  /** When its last failure was counted (`Date.now()`), 0 when none was. */
  lastFailureAt: number;
}

/** Who a failure or a success came from. */
export interface AttemptSource {
  /**
   * A hashed identity of the client (see `clientIdentity`); undefined for a call
   * from the process itself (the CLI, an application embedding the registry), which
   * is trusted as the operator and counts as every client at once.
   */
  client?: string | undefined;
}

export interface FailureDetails extends AttemptSource {
  /** The upstream's `retry-after`, in seconds. */
  retryAfterSeconds?: number | undefined;
}

export interface SuccessDetails extends AttemptSource {
  /** The length of the prompt that was answered, for the large-prompt rule. */
  promptCharacters?: number | undefined;
}

interface ClientState {
  consecutiveFailures: number;
  coolingDownUntil: number;
}

interface CandidateState extends ProviderHealth {
  lastFailureAt: number;
  /** Distinct clients among the failures since the last success (at most `minDistinctClients` kept). */
  readonly failingClients: Set<string>;
  /** A trusted (in-process) failure since the last success. */
  trustedFailure: boolean;
  /** Each client's own count and cooldown, least recently failed first. */
  readonly clients: Map<string, ClientState>;
  /** The lengths of the last successful prompts, a ring of `recentPromptCount`. */
  readonly recentPrompts: number[];
  recentPromptNext: number;
}

function freshHealth(): ProviderHealth {
  return {
    consecutiveFailures: 0,
    coolingDownUntil: 0,
    successes: 0,
    failures: 0,
    lastError: undefined,
  };
}

/**
 * Failure counters and cooldowns per candidate, a provider and one of its models,
 * fair between clients. A chat model that keeps failing is set aside while the same
 * provider's image models, and its other chat models, are still tried: one
 * upstream often serves models from different back ends, and one of them being down
 * says little of the others.
 *
 * The rule, and why: a cooldown for everyone is a judgement that the candidate is
 * broken, so it needs evidence from more than one client. Counting failures alone
 * let one client with a request that always fails (a 400 KB prompt that times out
 * before the first chunk) cool a provider down for every other client with three
 * requests. A failure rate over a minimum volume, as circuit breakers judge, does
 * not stop that either: one client can make the whole volume. So:
 *
 * - A client's own `failureThreshold` consecutive failures cool the candidate down
 *   for that client only: it stops paying for a candidate that fails it, and nobody
 *   else is affected. A deployment with one client (a developer's machine) behaves
 *   as before.
 * - The candidate cools down for everyone after `failureThreshold` failures since
 *   its last success that came from at least `minDistinctClients` distinct clients:
 *   a dead upstream fails everyone, so it is set aside after a few requests from two
 *   clients, while one client alone never gets there.
 * - An upstream's `retry-after` (429, 503) speaks for every client: it starts the
 *   cooldown for everyone at once.
 * - A call without a client (the CLI, an embedding application) is the operator's
 *   and trusted: its failures count as every client's, as before.
 *
 * A cooldown lasts `durationMs` (or the upstream's `retry-after` when longer, capped
 * at `maxDurationMs`). When it ends the candidate is tried again; one more failure
 * starts a new one at once (the counts are only reset by a success). A success, from
 * anyone, resets the shared count and cooldown; a client's own count is reset by its
 * own success only.
 */
export class CooldownTracker {
  /** Provider id → model → state; each inner map least recently used first. */
  readonly #providers = new Map<string, Map<string, CandidateState>>();
  /** Each provider's most recently used state: the last of its inner map. */
  readonly #latest = new Map<string, CandidateState>();

  constructor(
    readonly settings: CooldownSettings = defaultCooldownSettings,
    private readonly now: () => number = Date.now,
  ) {}

  #find(providerId: string, model: string): CandidateState | undefined {
    return this.#providers.get(providerId)?.get(model);
  }

  #state(providerId: string, model: string): CandidateState {
    let models = this.#providers.get(providerId);
    if (models === undefined) {
      models = new Map();
      this.#providers.set(providerId, models);
    }
    let state = models.get(model);
    if (state !== undefined) {
      // Moved to the most recent end, unless it is there already (a delete and a set
      // on every success of the one model a provider serves, for nothing).
      if (this.#latest.get(providerId) !== state) {
        models.delete(model);
        models.set(model, state);
        this.#latest.set(providerId, state);
      }
      return state;
    }
    state = {
      ...freshHealth(),
      lastFailureAt: 0,
      failingClients: new Set(),
      trustedFailure: false,
      clients: new Map(),
      recentPrompts: [],
      recentPromptNext: 0,
    };
    models.set(model, state);
    this.#latest.set(providerId, state);
    if (models.size > maxTrackedModelsPerProvider) {
      const oldest = models.keys().next().value;
      if (oldest !== undefined) models.delete(oldest);
    }
    return state;
  }

  /**
   * Milliseconds until the provider's model may be tried again by this client (its
   * own cooldown or the one for everyone, whichever ends later); 0 when it may be
   * tried now. Without a client: the cooldown for everyone only.
   */
  remainingMs(providerId: string, model: string, client?: string): number {
    const state = this.#find(providerId, model);
    if (state === undefined) return 0;
    const now = this.now();
    const shared = state.coolingDownUntil === 0 ? 0 : Math.max(state.coolingDownUntil - now, 0);
    if (client === undefined) return shared;
    const own = state.clients.get(client);
    if (own === undefined || own.coolingDownUntil === 0) return shared;
    return Math.max(shared, own.coolingDownUntil - now, 0);
  }

  recordSuccess(providerId: string, model: string, details: SuccessDetails = {}): void {
    const state = this.#state(providerId, model);
    state.successes++;
    state.consecutiveFailures = 0;
    state.coolingDownUntil = 0;
    state.lastError = undefined;
    // Only when there is something to clear: V8's `clear()` gives even an empty set a
    // new table, an allocation on every successful request for nothing.
    if (state.failingClients.size > 0) state.failingClients.clear();
    state.trustedFailure = false;
    if (details.client !== undefined && state.clients.size > 0)
      state.clients.delete(details.client);
    if (details.promptCharacters !== undefined) {
      state.recentPrompts[state.recentPromptNext] = details.promptCharacters;
      state.recentPromptNext = (state.recentPromptNext + 1) % recentPromptCount;
    }
  }

  /**
   * Count a failure the provider's model is to blame for; returns the length in ms
   * of the cooldown this failure started (for everyone, or for its client only), else 0.
   */
  recordFailure(
    providerId: string,
    model: string,
    message: string,
    details: FailureDetails = {},
  ): number {
    const { settings } = this;
    const { client, retryAfterSeconds } = details;
    const state = this.#state(providerId, model);
    state.failures++;
    state.consecutiveFailures++;
    state.lastError = message;
    state.lastFailureAt = this.now();
    if (client === undefined) state.trustedFailure = true;
    else if (state.failingClients.size < settings.minDistinctClients)
      state.failingClients.add(client);
    const own = client === undefined ? undefined : this.#clientState(state, client);
    if (own !== undefined) own.consecutiveFailures++;

    const requestedMs = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000;
    const durationMs = Math.min(settings.maxDurationMs, Math.max(settings.durationMs, requestedMs));
    if (durationMs <= 0) return 0;
    const askedToWait = settings.honorRetryAfter && retryAfterSeconds !== undefined;
    const brokenForAll =
      state.consecutiveFailures >= settings.failureThreshold &&
      (state.trustedFailure || state.failingClients.size >= settings.minDistinctClients);
    if (askedToWait || brokenForAll) {
      state.coolingDownUntil = this.now() + durationMs;
      return durationMs;
    }
    if (own !== undefined && own.consecutiveFailures >= settings.failureThreshold) {
      own.coolingDownUntil = this.now() + durationMs;
      return durationMs;
    }
    return 0;
  }

  /**
   * True when a prompt of `characters` is much larger than any the provider's model
   * answered lately: more than `largePromptFactor` times the largest of its last
   * successful prompts, and at least `largePromptMinCharacters`. False while it has
   * no success to compare with (a dead upstream must still be found out).
   */
  isMuchLargerThanRecentPrompts(providerId: string, model: string, characters: number): boolean {
    const { largePromptFactor, largePromptMinCharacters } = this.settings;
    if (largePromptFactor <= 0 || characters < largePromptMinCharacters) return false;
    const recent = this.#find(providerId, model)?.recentPrompts;
    if (recent === undefined || recent.length === 0) return false;
    return characters > largePromptFactor * Math.max(...recent);
  }

  /**
   * True when a success of the client on the provider's model would change
   * something beyond the counts: failures since the last success, or the client's
   * own count. Replicas tell each other only of such successes.
   */
  hasFailuresToClear(providerId: string, model: string, client?: string): boolean {
    const state = this.#find(providerId, model);
    if (state === undefined) return false;
    if (state.consecutiveFailures > 0 || state.coolingDownUntil > 0) return true;
    return client !== undefined && state.clients.has(client);
  }

  /** A copy of the health of a provider's model (a fresh one for a model never used). */
  health(providerId: string, model: string): ProviderHealth {
    const state = this.#find(providerId, model);
    if (state === undefined) return freshHealth();
    const { consecutiveFailures, coolingDownUntil, successes, failures, lastError } = state;
    return { consecutiveFailures, coolingDownUntil, successes, failures, lastError };
  }

  /** The health of every model of the provider that was used, in the order they were first used. */
  modelsHealth(providerId: string): ModelHealth[] {
    const models = this.#providers.get(providerId);
    if (models === undefined) return [];
    const result: ModelHealth[] = [];
    for (const [model, state] of models) {
      const { consecutiveFailures, coolingDownUntil, successes, failures, lastError } = state;
      result.push({
        model,
        consecutiveFailures,
        coolingDownUntil,
        successes,
        failures,
        lastError,
        lastFailureAt: state.lastFailureAt,
      });
    }
    return result.sort((left, right) => left.model.localeCompare(right.model));
  }

  /** How many clients the provider's model is cooling down for on their own right now. */
  clientsCoolingDown(providerId: string, model: string): number {
    const state = this.#find(providerId, model);
    if (state === undefined) return 0;
    const now = this.now();
    let count = 0;
    for (const client of state.clients.values()) if (client.coolingDownUntil > now) count++;
    return count;
  }

  /** The client's own state, moved to the most recent end; the least recent is forgotten past the cap. */
  #clientState(state: CandidateState, client: string): ClientState {
    const existing = state.clients.get(client);
    if (existing !== undefined) {
      state.clients.delete(client);
      state.clients.set(client, existing);
      return existing;
    }
    const created: ClientState = { consecutiveFailures: 0, coolingDownUntil: 0 };
    state.clients.set(client, created);
    if (state.clients.size > this.settings.maxTrackedClients) {
      const oldest = state.clients.keys().next().value;
      if (oldest !== undefined) state.clients.delete(oldest);
    }
    return created;
  }
}
