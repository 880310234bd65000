import type { Registry } from "./registry.js";
import type { StateStatus } from "./state-store.js";

/**
 * The `state` field of `/healthz` and `/v1/providers` when replicas share state:
 * `shared`, or `degraded` while Redis is away (the replica answers on its own
 * state then; its limits hold for it alone). Nothing for a registry alone, whose
 * answers stay as they were.
 */
export function sharedStateField(registry: Registry): { state?: Record<string, unknown> } {
  const status: StateStatus = registry.state.status();
  if (status.backend === "memory") return {};
  return {
    state: {
      backend: status.backend,
      status: status.status,
      since: status.since,
      last_error: status.lastError,
      errors: status.errors,
    },
  };
}
