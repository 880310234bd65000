import type { Logger } from "pino";
import type { RegistryConfig } from "./config.js";
import type { CooldownTracker } from "./cooldown.js";
import type { FallbackObserver } from "./fallback-observer.js";
import { KeyRateLimits } from "./key-rate-limits.js";
import { MemoryStateStore } from "./memory-state-store.js";
import { CandidateOrdering } from "./routing-strategies.js";
import { applyRemoteAttempt, sharedStateObserver } from "./shared-state-observer.js";
import type { StateStatus, StateStore } from "./state-store.js";

export interface RegistryStateOptions {
  /** The store (`createRegistry` makes the Redis one when `state.redis` is set); default: in process. */
  stateStore?: StateStore;
  now?: () => number;
  random?: () => number;
}

/** What `/v1/providers` shows of the routing strategies. */
export interface RoutingDescription {
  strategy: string;
  /** The strategies set per model. */
  models: Record<string, string>;
  latency_exploration: number;
}

/**
 * The state of a registry that its replicas may share, and what is built on it:
 * the state store, the candidate ordering of the routing strategies, the per-key
 * limits, and the observer that feeds the store. A registry without `state.redis`
 * keeps all of it in its own process, as it did before there were replicas.
 */
export class RegistryState {
  readonly store: StateStore;
  readonly ordering: CandidateOrdering;
  readonly keyLimits: KeyRateLimits;
  readonly observer: FallbackObserver;

  constructor(
    readonly config: RegistryConfig,
    cooldown: CooldownTracker,
    knownProvider: (id: string) => boolean,
    logger: Logger,
    options: RegistryStateOptions = {},
  ) {
    this.store = options.stateStore ?? new MemoryStateStore();
    this.store.onStatusChange((status) => {
      if (status.status === "degraded")
        logger.warn(
          { error: status.lastError },
          "Redis is away: going on with this replica's own state (limits hold per replica)",
        );
      else logger.info("sharing state with the other replicas through Redis");
    });
    this.store.onRemoteAttempt((event) => {
      if (knownProvider(event.provider)) applyRemoteAttempt(cooldown, event);
    });
    const { routing } = config;
    const store = this.store;
    this.ordering = new CandidateOrdering({
      strategy: routing.strategy,
      models: routing.models,
      latencyExploration: routing.latencyExploration,
      inputs: {
        inFlight: (provider, model) => store.inFlight(provider, model),
        latencyMs: (provider, model) => store.latencyMs(provider, model),
      },
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    this.keyLimits = new KeyRateLimits(config.server.apiKeyLimits, this.store, options.now);
    this.observer = sharedStateObserver(this.store, cooldown);
  }

  status(): StateStatus {
    return this.store.status();
  }

  describeRouting(): RoutingDescription {
    return {
      strategy: this.ordering.strategy,
      models: Object.fromEntries(
        Object.entries(this.ordering.models).map(([name, { strategy }]) => [name, strategy]),
      ),
      latency_exploration: this.ordering.latencyExploration,
    };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
