import type { CooldownTracker } from "./cooldown.js";
import type { FallbackObserver } from "./fallback-observer.js";
import type { SharedAttemptEvent, StateStore } from "./state-store.js";

/**
 * Tells the other replicas (through the state store) of each failure blamed on a
 * provider, and of each success that clears failures, as the cooldown observer
 * counts them here; records each time to first content for the `latency` strategy.
 * It must come before the cooldown observer, which clears the failures it reads.
 * A success of a healthy candidate is not sent: it would change nothing elsewhere
 * but a count, and sending every one would cost each replica the traffic of all.
 */
export function sharedStateObserver(
  store: StateStore,
  cooldown: CooldownTracker,
): FallbackObserver {
  return {
    firstContent({ candidate, elapsedMs }) {
      store.recordFirstContent(candidate.entry.id, candidate.model, elapsedMs);
    },
    attemptSucceeded({ candidate, request, promptCharacters }) {
      if (!cooldown.hasFailuresToClear(candidate.entry.id, candidate.model, request.client)) return;
      store.publishAttempt({
        kind: "success",
        provider: candidate.entry.id,
        model: candidate.model,
        client: request.client,
        promptCharacters,
      });
    },
    attemptFailed({ candidate, request, report, blame, retryAfterSeconds }) {
      if (blame !== "provider") return;
      store.publishAttempt({
        kind: "failure",
        provider: candidate.entry.id,
        model: candidate.model,
        message: report.message,
        client: request.client,
        retryAfterSeconds,
      });
    },
  };
}

/** Counts the other replicas' outcomes in this replica's cooldown tracker, as if seen here. */
export function applyRemoteAttempt(cooldown: CooldownTracker, event: SharedAttemptEvent): void {
  if (event.kind === "success")
    cooldown.recordSuccess(event.provider, event.model, {
      client: event.client,
      promptCharacters: event.promptCharacters,
    });
  else
    cooldown.recordFailure(
      event.provider,
      event.model,
      event.message ?? "failed on another replica",
      {
        client: event.client,
        retryAfterSeconds: event.retryAfterSeconds,
      },
    );
}
