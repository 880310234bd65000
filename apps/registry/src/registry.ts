import { AbortError, type Provider, type ProviderPlugin } from "@g4f-ts/provider-core";
import type { Logger } from "pino";
import {
  loadConfig,
  parseConfig,
  type RegistryConfig,
  type RegistryConfigInput,
} from "./config.js";
import { ConfigError } from "./config-error.js";
import type { EnvironmentVariables } from "./config-secrets.js";
import { ConsoleStats } from "./console/console-stats.js";
import { CooldownTracker } from "./cooldown.js";
import { type AttemptRequest, FallbackRun, type FallbackSettings } from "./fallback.js";
import { cooldownObserver, logObserver, metricsObserver } from "./fallback-observers.js";
import { silentLogger } from "./logger.js";
import { RegistryMetrics } from "./metrics.js";
import type { Candidate, ModelListing, ModelRouter, RouteKind } from "./model-router.js";
import {
  type DiscoveredPlugin,
  type DiscoveryProblem,
  discoverProviderPackages,
  registryDirectory,
} from "./plugin-discovery.js";
import {
  describeProviderHealth,
  type ProviderHealthDescription,
  providerGauge,
} from "./provider-health.js";
import { buildProviderSet, type InMemoryProvider, type ProviderEntry } from "./provider-set.js";
import { RegistryState, type RegistryStateOptions } from "./registry-state.js";
import { RouteTable } from "./route-table.js";
import { renderStateMetrics } from "./state-metrics.js";
import type { StateStore } from "./state-store.js";

export interface CreateRegistryOptions {
  /** A config value (validated here) or one from `parseConfig`/`loadConfig`. */
  config?: RegistryConfig | RegistryConfigInput;
  /** A JSON config file, read when `config` is not given. */
  configPath?: string;
  /** Scan `node_modules` for provider packages; default: the config's `discovery.installed`. */
  discover?: boolean;
  /** Where the scan starts; default: the registry package's own folder. */
  discoveryDirectory?: string;
  /** Plugins handed in directly, after the discovered ones. */
  plugins?: readonly ProviderPlugin[];
  /** Provider instances handed in directly; they come first in discovery order. */
  providers?: readonly (Provider | InMemoryProvider)[];
  /** Default: a silent logger (an embedded registry says nothing unless asked). */
  logger?: Logger;
  /** Where `{ "env": … }` secrets and `G4F_API_KEY` are read; default `process.env`. */
  env?: EnvironmentVariables;
  /** The clock of cooldowns (tests). */
  now?: () => number;
  /** The randomness of the shuffle, weighted and latency strategies (tests). */
  random?: () => number;
  /** The state store (tests); default: Redis when `state.redis` is set, else in process. */
  stateStore?: StateStore;
  /**
   * Stops a start in progress (a shutdown signal): the model lists being fetched are
   * aborted, and `createRegistry` rejects with an `AbortError`.
   */
  signal?: AbortSignal;
}

/** What `/v1/providers` shows of one provider. */
export interface ProviderDescription {
  id: string;
  label: string;
  url: string;
  source: string;
  working: boolean;
  enabled: boolean;
  priority: number;
  /** Its share under the `weighted` strategy. */
  weight: number;
  needs_auth: boolean;
  supports_stream: boolean;
  default_model: string;
  models: readonly string[];
  image_models: readonly string[];
  aliases: Readonly<Record<string, string>>;
  health: ProviderHealthDescription;
}

/**
 * A registry: its providers, the route table built from them, the cooldown state,
 * the metrics and the fallback engine's settings. The route table and the
 * `/v1/models` answer follow the providers' model lists: computed once, and again
 * only after a provider's list changed (a refresh from its upstream).
 */
export class Registry {
  readonly #routes: RouteTable;
  readonly cooldown: CooldownTracker;
  /** Cooldown events, in-flight counts, latencies and key limits: in process, or shared through Redis. */
  readonly state: RegistryState;
  readonly metrics = new RegistryMetrics();
  /** The console's per-provider time series (`GET /v1/console/stats`). */
  readonly consoleStats: ConsoleStats;
  readonly fallbackSettings: FallbackSettings;
  /** `created` of every `/v1/models` entry: when the registry started. */
  readonly createdAt = Math.floor(Date.now() / 1000);

  constructor(
    readonly config: RegistryConfig,
    readonly entries: readonly ProviderEntry[],
    readonly problems: readonly DiscoveryProblem[],
    readonly logger: Logger,
    options: RegistryStateOptions = {},
  ) {
    this.cooldown = new CooldownTracker(config.cooldown, options.now);
    this.consoleStats = new ConsoleStats(undefined, options.now);
    const ids = new Set(entries.map((entry) => entry.id));
    this.state = new RegistryState(config, this.cooldown, (id) => ids.has(id), logger, options);
    this.#routes = new RouteTable(
      entries,
      config.routing.strategy,
      options.random,
      (listing) => this.modelObject(listing),
      this.state.ordering,
    );
    this.fallbackSettings = {
      retriesPerProvider: config.routing.retriesPerProvider,
      retryDelayMs: config.routing.retryDelayMs,
      answerLimitBytes: config.server.answerLimitBytes,
      cooldown: this.cooldown,
      inFlight: this.state.store,
      observers: [
        metricsObserver(this.metrics),
        // Before the cooldown observer: it reads the failures a success clears.
        this.state.observer,
        cooldownObserver(this.cooldown),
        logObserver(),
        this.consoleStats.observer(),
      ],
    };
  }

  /** Every model name routed to, with its providers (what `/v1/models` lists). */
  modelListing(): readonly ModelListing[] {
    return this.router.listing;
  }

  /** The `/v1/models` answer: every model name routed to, as JSON text. */
  modelsBody(): string {
    return this.#routes.modelsBody();
  }

  /**
   * The route table over the providers' current model lists: rebuilt when a
   * provider's list changed (see `RouteTable`), so routing, `/v1/models` and
   * `/v1/providers` agree.
   */
  get router(): ModelRouter {
    return this.#routes.router();
  }

  /** The `/v1/models/<name>` entry, or undefined when no provider serves the name. */
  describeModel(name: string): Record<string, unknown> | undefined {
    const listing = this.router.listing.find((model) => model.name === name);
    if (listing !== undefined) return this.modelObject(listing);
    return this.#routes.embeddingObjects().find((model) => model.id === name);
  }

  /** The `/api/<provider>/models` entries, or undefined when no provider has the id. */
  describeProviderModels(id: string): Record<string, unknown>[] | undefined {
    const entry = this.router.findEntry(id);
    if (entry === undefined) return undefined;
    const { provider } = entry;
    const names = [...new Set([...provider.getModels(), ...Object.keys(provider.modelAliases)])];
    return names.map((name) => ({
      id: name,
      object: "model",
      created: this.createdAt,
      owned_by: entry.id,
      type: provider.imageModels.includes(name) ? "image" : "chat",
    }));
  }

  /**
   * The ordered candidates for a requested model (and provider, when the client
   * pinned one); throws a 404 `HttpError` when no enabled provider serves it.
   */
  resolve(
    model: string | undefined,
    provider: string | undefined,
    kind: RouteKind,
  ): readonly Candidate[] {
    return this.router.resolve(model, provider, kind);
  }

  /** How many providers there are, and how many of them are routed to. */
  providerCounts(): { providers: number; enabled: number } {
    return {
      providers: this.entries.length,
      enabled: this.entries.filter((entry) => entry.enabled).length,
    };
  }

  /** Count one answered HTTP request in the metrics. */
  recordRequest(route: string, status: number, seconds: number): void {
    this.metrics.requests.incLabels(route, String(status));
    this.metrics.requestDuration.observeLabels(seconds, route);
  }

  /** One `/v1/models` entry. */
  modelObject(listing: ModelListing): Record<string, unknown> {
    return {
      id: listing.name,
      object: "model",
      created: this.createdAt,
      owned_by: listing.ownedBy,
      providers: listing.providers,
      type: listing.kind,
    };
  }

  /** A fallback run over `candidates` for one request. */
  run(candidates: readonly Candidate[], request: AttemptRequest): FallbackRun {
    return new FallbackRun(candidates, request, this.fallbackSettings);
  }

  /** Every provider (enabled or not) with its current health. */
  describeProviders(): ProviderDescription[] {
    return this.entries.map((entry) => {
      const { provider } = entry;
      return {
        id: entry.id,
        label: provider.label,
        url: provider.url,
        source: entry.source,
        working: provider.working,
        enabled: entry.enabled,
        priority: entry.priority,
        weight: entry.weight,
        needs_auth: provider.needsAuth,
        supports_stream: provider.supportsStream,
        default_model: provider.defaultModel,
        models: provider.getModels(),
        image_models: provider.imageModels,
        aliases: provider.modelAliases,
        health: describeProviderHealth(this.cooldown, entry),
      };
    });
  }

  /** The metrics text, gauges included. */
  renderMetrics(openRequests: number): string {
    return (
      this.metrics.render(
        this.entries.map((entry) => providerGauge(this.cooldown, entry)),
        openRequests,
      ) + renderStateMetrics(this.state)
    );
  }

  /** Close what the registry holds open: the connections of a shared state store. */
  close(): Promise<void> {
    return this.state.close();
  }
}

function isResolvedConfig(value: RegistryConfig | RegistryConfigInput): value is RegistryConfig {
  return typeof (value as { directory?: unknown }).directory === "string";
}

/**
 * Build a registry: read the config (none is needed), discover the provider
 * packages installed beside the registry, add the plugins and providers handed
 * in, and build the route table. Discovered packages that fail to load or break the
 * provider contract are skipped and listed in `problems` (and logged as warnings); a
 * config entry that can not be made (its package missing, its options refused) throws
 * a `ConfigError`, unless the entry says `"optional": true`.
 *
 * @example
 * const registry = await createRegistry({ configPath: "g4f.config.json" });
 * const server = await startServer({ registry });
 */
export async function createRegistry(options: CreateRegistryOptions = {}): Promise<Registry> {
  const env = options.env ?? process.env;
  const config =
    options.config === undefined
      ? await loadConfig(options.configPath, { env })
      : isResolvedConfig(options.config)
        ? options.config
        : parseConfig(options.config, { env });
  const logger = options.logger ?? silentLogger();

  const discover = options.discover ?? config.discovery.installed;
  const discovered = discover
    ? await discoverProviderPackages(options.discoveryDirectory ?? registryDirectory)
    : { plugins: [], problems: [] };
  const injected: DiscoveredPlugin[] = (options.plugins ?? []).map((plugin) => ({
    packageName: plugin.name,
    packageDirectory: "",
    plugin,
  }));
  const set = await buildProviderSet({
    config,
    plugins: [...discovered.plugins, ...injected],
    providers: options.providers ?? [],
  });
  if (set.configIssues.length > 0) throw new ConfigError(config.source, set.configIssues);
  await refreshModelLists(set.entries, logger, options.signal);
  if (options.signal?.aborted)
    throw new AbortError({ message: "The start was stopped", cause: options.signal.reason });
  const problems = [...discovered.problems, ...set.problems];
  for (const problem of problems)
    logger.warn({ package: problem.packageName, problem: problem.message }, "skipped a provider");
  // Loaded only when asked for: a registry alone neither loads nor needs a Redis client.
  const stateStore =
    options.stateStore ??
    (config.state.redis === undefined
      ? undefined
      : new (await import("./redis-state-store.js")).RedisStateStore(config.state.redis));
  return new Registry(config, set.entries, problems, logger, { ...options, stateStore });
}

/** How long a start waits for providers that fetch their model list from the upstream. */
const modelRefreshTimeoutMs = 5_000;

/**
 * Let providers whose models come from their upstream fetch the list before the
 * route table is built; a provider that fails or is slow keeps what it had (its
 * fixed or default models) and the registry starts all the same.
 */
async function refreshModelLists(
  entries: readonly ProviderEntry[],
  logger: Logger,
  stop: AbortSignal | undefined,
): Promise<void> {
  const refreshing = entries.filter(
    (entry) => entry.enabled && typeof entry.provider.refreshModels === "function",
  );
  if (refreshing.length === 0 || stop?.aborted) return;
  const timeout = AbortSignal.timeout(modelRefreshTimeoutMs);
  const signal = stop === undefined ? timeout : AbortSignal.any([timeout, stop]);
  const results = await Promise.allSettled(
    refreshing.map((entry) => entry.provider.refreshModels?.(signal)),
  );
  results.forEach((result, index) => {
    if (result.status === "rejected" && stop?.aborted !== true) {
      const error = result.reason instanceof Error ? result.reason.message : String(result.reason);
      logger.warn(
        { provider: refreshing[index]?.id, error },
        "could not fetch the model list; using the configured models",
      );
    }
  });
}
