import {
  type Provider,
  type ProviderPlugin,
  providerContractViolations,
} from "@g4f-ts/provider-core";
import type { AttemptTimeouts, ProviderConfigEntry, RegistryConfig } from "./config.js";
import type { ConfigIssue } from "./config-error.js";
import { installCommand } from "./install-command.js";
import {
  type DiscoveredPlugin,
  type DiscoveryProblem,
  findPackageDirectory,
  loadProviderPackage,
  registryDirectory,
} from "./plugin-discovery.js";

/** One provider instance of a registry, with how the registry treats it. */
export interface ProviderEntry {
  /** Unique in the registry; used in paths, model prefixes, headers and metrics. */
  readonly id: string;
  readonly provider: Provider;
  /** Higher is tried first. */
  readonly priority: number;
  /** Routed to; from the config's `enabled`, else the provider's `working`. */
  readonly enabled: boolean;
  /** Position in discovery order, the tie-breaker of equal priorities. */
  readonly order: number;
  /** The package it came from, or `in-memory`. */
  readonly source: string;
  readonly timeouts: AttemptTimeouts;
  /** Its share under the `weighted` routing strategy (default 1). */
  readonly weight: number;
}

/** A provider instance handed to a registry directly (tests, embedding), with optional overrides. */
export interface InMemoryProvider {
  provider: Provider;
  /** Default: `provider.id`. */
  id?: string;
  priority?: number;
  enabled?: boolean;
  timeouts?: Partial<AttemptTimeouts>;
  /** Its share under the `weighted` routing strategy (default 1). */
  weight?: number;
}

export interface ProviderSetInput {
  config: RegistryConfig;
  /** Discovered and injected plugins, in discovery order. */
  plugins: readonly DiscoveredPlugin[];
  providers: readonly (Provider | InMemoryProvider)[];
}

export interface ProviderSet {
  entries: ProviderEntry[];
  problems: DiscoveryProblem[];
  /**
   * Config entries (not marked `optional`) that could not be made: their package is
   * missing, or it refused their options. A registry does not start with these.
   */
  configIssues: ConfigIssue[];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isInMemoryProvider(value: Provider | InMemoryProvider): value is InMemoryProvider {
  return "provider" in value && typeof value.provider === "object" && value.provider !== null;
}

/**
 * Build the provider instances of a registry, in discovery order: providers handed
 * in directly, then the config's entries, then one default instance (`id` = the
 * plugin's name, `createProvider({})`) of every plugin no config entry uses. A
 * config entry without `use` adjusts the provider of that id (its priority,
 * `enabled`, timeouts, and for a plugin its options). Anything that fails is a
 * problem, and the rest still start.
 */
export async function buildProviderSet(input: ProviderSetInput): Promise<ProviderSet> {
  const { config } = input;
  const problems: DiscoveryProblem[] = [];
  const configIssues: ConfigIssue[] = [];
  const entries: ProviderEntry[] = [];
  const ids = new Set<string>();

  const add = (
    id: string,
    provider: unknown,
    source: string,
    settings: {
      priority?: number | undefined;
      enabled?: boolean | undefined;
      timeouts?: Partial<AttemptTimeouts> | undefined;
      weight?: number | undefined;
    },
  ): string | undefined => {
    const violations = providerContractViolations(provider);
    if (violations.length > 0)
      return `provider "${id}" does not satisfy the provider contract: ${violations.join("; ")}`;
    if (ids.has(id)) return `the provider id "${id}" is already taken`;
    ids.add(id);
    const instance = provider as Provider;
    entries.push({
      id,
      provider: instance,
      priority: settings.priority ?? 0,
      enabled: settings.enabled ?? instance.working,
      order: entries.length,
      source,
      timeouts: { ...config.routing.timeouts, ...settings.timeouts },
      weight: settings.weight ?? 1,
    });
    return undefined;
  };

  const create = (
    plugin: ProviderPlugin,
    options: Record<string, unknown>,
  ): { provider: unknown } | { failure: string } => {
    try {
      return { provider: plugin.createProvider(options) };
    } catch (error) {
      return { failure: `createProvider failed: ${describe(error)}` };
    }
  };

  // A config entry names what the user asked for: failing it stops the start, unless
  // the entry says it may be missing.
  const entryFailed = (
    entry: ProviderConfigEntry,
    index: number,
    packageName: string,
    message: string,
  ): void => {
    if (entry.optional)
      problems.push({ packageName, message: `providers.${index} (${entry.id}): ${message}` });
    else
      configIssues.push({
        path: `providers.${index}`,
        message: `(${entry.id}, ${packageName}) ${message}`,
      });
  };

  const pluginsByKey = new Map<string, DiscoveredPlugin>();
  for (const discovered of input.plugins) {
    if (!pluginsByKey.has(discovered.packageName))
      pluginsByKey.set(discovered.packageName, discovered);
    if (!pluginsByKey.has(discovered.plugin.name))
      pluginsByKey.set(discovered.plugin.name, discovered);
  }
  const usedPlugins = new Set<ProviderPlugin>();
  const overrides = new Map<string, ProviderConfigEntry>();
  for (const entry of config.providers) if (entry.use === undefined) overrides.set(entry.id, entry);

  for (const item of input.providers) {
    const inMemory = isInMemoryProvider(item) ? item : { provider: item };
    const id = inMemory.id ?? inMemory.provider.id;
    const override = overrides.get(id);
    overrides.delete(id);
    const failure = add(id, inMemory.provider, "in-memory", {
      priority: override?.priority ?? inMemory.priority,
      enabled: override?.enabled ?? inMemory.enabled,
      timeouts: { ...inMemory.timeouts, ...override?.timeouts },
      weight: override?.weight ?? inMemory.weight,
    });
    if (failure !== undefined) problems.push({ packageName: "in-memory", message: failure });
  }

  const searchDirectories = [...new Set([config.directory, process.cwd(), registryDirectory])];
  for (const [index, entry] of config.providers.entries()) {
    if (entry.use === undefined && !overrides.has(entry.id)) continue;
    const name = entry.use ?? entry.id;
    let discovered = pluginsByKey.get(name);
    if (discovered === undefined && entry.use !== undefined) {
      try {
        const directory = await findPackageDirectory(entry.use, searchDirectories);
        if (directory === undefined)
          throw new Error(
            `the package is not installed; install it beside the registry (${installCommand([entry.use])}) or mark the entry "optional": true`,
          );
        discovered = await loadProviderPackage(directory);
        if (discovered === undefined)
          throw new Error(`it is not a provider package (no "g4f-ts" field in its package.json)`);
        pluginsByKey.set(name, discovered);
      } catch (error) {
        entryFailed(entry, index, name, describe(error));
        continue;
      }
    }
    if (discovered === undefined) {
      entryFailed(
        entry,
        index,
        name,
        `no provider or plugin is named "${entry.id}"; set "use" to its package`,
      );
      continue;
    }
    usedPlugins.add(discovered.plugin);
    const created = create(discovered.plugin, { ...entry.options, id: entry.id });
    const failure =
      "failure" in created
        ? `its options were refused: ${created.failure}`
        : add(entry.id, created.provider, discovered.packageName, entry);
    if (failure !== undefined) entryFailed(entry, index, discovered.packageName, failure);
  }

  for (const discovered of input.plugins) {
    // A plugin without a sensible default (one that needs a base URL) waits for a config entry.
    if (usedPlugins.has(discovered.plugin) || discovered.plugin.requiresOptions === true) continue;
    usedPlugins.add(discovered.plugin);
    const created = create(discovered.plugin, {});
    const failure =
      "failure" in created
        ? `default instance "${discovered.plugin.name}": ${created.failure}`
        : add(discovered.plugin.name, created.provider, discovered.packageName, {});
    if (failure !== undefined)
      problems.push({ packageName: discovered.packageName, message: failure });
  }
  return { entries, problems, configIssues };
}
