import type { CooldownTracker } from "./cooldown.js";
import type { FallbackObserver } from "./fallback-observer.js";
import type { RegistryMetrics } from "./metrics.js";

/** Counts attempts, failures, fallbacks and their latencies in the registry's metrics. */
export function metricsObserver(metrics: RegistryMetrics): FallbackObserver {
  return {
    attemptSkipped({ candidate }) {
      metrics.failures.incLabels(candidate.entry.id, "cooldown");
    },
    firstContent({ candidate, elapsedMs }) {
      metrics.firstContent.observeLabels(elapsedMs / 1000, candidate.entry.id);
    },
    attemptSucceeded({ candidate, elapsedMs }) {
      metrics.attempts.incLabels(candidate.entry.id, "success");
      metrics.attemptDuration.observeLabels(elapsedMs / 1000, candidate.entry.id, "success");
    },
    attemptFailed({ candidate, report, elapsedMs }) {
      metrics.failures.incLabels(candidate.entry.id, report.reason);
      metrics.attempts.incLabels(candidate.entry.id, "failure");
      metrics.attemptDuration.observeLabels(elapsedMs / 1000, candidate.entry.id, "failure");
    },
    attemptCancelled({ candidate, elapsedMs }) {
      metrics.attempts.incLabels(candidate.entry.id, "cancelled");
      metrics.attemptDuration.observeLabels(elapsedMs / 1000, candidate.entry.id, "cancelled");
    },
    fellBack({ candidate }) {
      metrics.fallbacks.incLabels(candidate.entry.id);
    },
  };
}

/** Feeds successes and the failures blamed on a provider to the cooldown tracker, per provider and model. */
export function cooldownObserver(cooldown: CooldownTracker): FallbackObserver {
  return {
    attemptSucceeded({ candidate, request, promptCharacters }) {
      cooldown.recordSuccess(candidate.entry.id, candidate.model, {
        client: request.client,
        promptCharacters,
      });
    },
    attemptFailed({ candidate, request, report, blame, retryAfterSeconds }) {
      if (blame !== "provider") return;
      cooldown.recordFailure(candidate.entry.id, candidate.model, report.message, {
        client: request.client,
        retryAfterSeconds,
      });
    },
  };
}

/** Logs each failed attempt at warn, on the request's own logger when it has one. */
export function logObserver(): FallbackObserver {
  return {
    attemptFailed({ candidate, request, report, blame }) {
      request.logger?.warn(
        {
          requestId: request.requestId,
          provider: candidate.entry.id,
          model: candidate.model,
          status: report.status,
          reason: report.reason,
          blame,
        },
        "attempt failed",
      );
    },
  };
}
