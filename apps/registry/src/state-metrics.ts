import type { RegistryState } from "./registry-state.js";

/**
 * The `/metrics` lines of shared state and key limits, appended to the rest: none
 * for a registry that keeps its state in process and has no limited key (its
 * metrics stay as they were).
 */
export function renderStateMetrics(state: RegistryState): string {
  const lines: string[] = [];
  const status = state.status();
  if (status.backend === "redis") {
    lines.push(
      "# HELP g4f_state_shared 1 while the replica shares its state through Redis, 0 while it goes on alone.",
      "# TYPE g4f_state_shared gauge",
      `g4f_state_shared ${status.status === "shared" ? 1 : 0}`,
      "# HELP g4f_state_errors_total Redis commands that failed or timed out.",
      "# TYPE g4f_state_errors_total counter",
      `g4f_state_errors_total ${status.errors}`,
    );
  }
  const refused = state.keyLimits.refusals;
  if (state.keyLimits.enabled) {
    lines.push(
      "# HELP g4f_rate_limited_total Requests refused by a per-key limit, by limit.",
      "# TYPE g4f_rate_limited_total counter",
    );
    for (const limit of ["requests", "tokens", "concurrent"] as const)
      lines.push(`g4f_rate_limited_total{limit="${limit}"} ${refused[limit]}`);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
