import type { CooldownTracker } from "./cooldown.js";
import type { ModelGauge, ProviderGauge } from "./metrics.js";
import type { ProviderEntry } from "./provider-set.js";

/** The state `/v1/providers` gives a provider or one of its models. */
export type HealthStatus = "ok" | "failing" | "cooling_down" | "disabled";

/** What `/v1/providers` shows of one model of a provider that was used. */
export interface ModelHealthDescription {
  model: string;
  status: Exclude<HealthStatus, "disabled">;
  consecutive_failures: number;
  cooldown_remaining_ms: number;
  cooldown_until: string | null;
  /** Clients the model is cooling down for on their own (their failures alone did not convince). */
  clients_cooling_down: number;
  successes: number;
  failures: number;
  last_error: string | null;
}

/**
 * A provider's health over its models. The fields of old (one state per provider)
 * summarise its models, so a reader that knows only them still sees a provider with
 * a failing model as failing: `status` is `cooling_down` while any model is (named in
 * `cooling_down_models`), the counts of failures and the remaining time are the
 * largest of any model, `successes` and `failures` are summed. `models` holds each
 * model's own state.
 */
export interface ProviderHealthDescription {
  status: HealthStatus;
  consecutive_failures: number;
  cooldown_remaining_ms: number;
  cooldown_until: string | null;
  clients_cooling_down: number;
  successes: number;
  failures: number;
  last_error: string | null;
  /** The provider's models that are cooling down for everyone right now. */
  cooling_down_models: string[];
  /** Every model of the provider that was used, by name. */
  models: ModelHealthDescription[];
}

/** The health of one provider and of each of its models that was used. */
export function describeProviderHealth(
  cooldown: CooldownTracker,
  entry: ProviderEntry,
): ProviderHealthDescription {
  const models: ModelHealthDescription[] = [];
  let lastFailureAt = -1;
  let lastError: string | null = null;
  let longest: ModelHealthDescription | undefined;
  const summary = { consecutive_failures: 0, clients_cooling_down: 0, successes: 0, failures: 0 };
  for (const health of cooldown.modelsHealth(entry.id)) {
    const remaining = cooldown.remainingMs(entry.id, health.model);
    const described: ModelHealthDescription = {
      model: health.model,
      status: remaining > 0 ? "cooling_down" : health.consecutiveFailures > 0 ? "failing" : "ok",
      consecutive_failures: health.consecutiveFailures,
      cooldown_remaining_ms: remaining,
      cooldown_until: remaining > 0 ? new Date(health.coolingDownUntil).toISOString() : null,
      clients_cooling_down: cooldown.clientsCoolingDown(entry.id, health.model),
      successes: health.successes,
      failures: health.failures,
      last_error: health.lastError ?? null,
    };
    models.push(described);
    summary.consecutive_failures = Math.max(
      summary.consecutive_failures,
      health.consecutiveFailures,
    );
    summary.clients_cooling_down += described.clients_cooling_down;
    summary.successes += health.successes;
    summary.failures += health.failures;
    if (health.lastError !== undefined && health.lastFailureAt > lastFailureAt) {
      lastFailureAt = health.lastFailureAt;
      lastError = health.lastError;
    }
    if (remaining > (longest?.cooldown_remaining_ms ?? 0)) longest = described;
  }
  const coolingDown = models.filter((model) => model.status === "cooling_down");
  const status: HealthStatus = !entry.enabled
    ? "disabled"
    : coolingDown.length > 0
      ? "cooling_down"
      : summary.consecutive_failures > 0
        ? "failing"
        : "ok";
  return {
    status,
    ...summary,
    cooldown_remaining_ms: longest?.cooldown_remaining_ms ?? 0,
    cooldown_until: longest?.cooldown_until ?? null,
    last_error: lastError,
    cooling_down_models: coolingDown.map((model) => model.model),
    models,
  };
}

/** The gauges of one provider and its used models at scrape time. */
export function providerGauge(cooldown: CooldownTracker, entry: ProviderEntry): ProviderGauge {
  const models: ModelGauge[] = cooldown.modelsHealth(entry.id).map((health) => ({
    model: health.model,
    coolingDown: cooldown.remainingMs(entry.id, health.model) > 0,
    consecutiveFailures: health.consecutiveFailures,
  }));
  return {
    id: entry.id,
    enabled: entry.enabled,
    coolingDown: models.some((model) => model.coolingDown),
    consecutiveFailures: Math.max(0, ...models.map((model) => model.consecutiveFailures)),
    models,
  };
}
