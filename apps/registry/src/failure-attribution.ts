import {
  AbortError,
  ContextLengthExceededError,
  ModelNotSupportedError,
  ProviderError,
  ResponseStatusError,
  ResponseTooLargeError,
  TimeoutError,
} from "@g4f-ts/provider-core";
import { answerLimitName } from "./answer-collector.js";

/** Who a failed attempt is blamed on: the provider (it counts towards a cooldown) or the request. */
export type FailureBlame = "provider" | "request";

/** What the attribution needs to know of the attempt besides its error. */
export interface FailedAttemptFacts {
  /** The failure's reason word (`failureReason`): `refused` when the provider refused the request itself. */
  readonly reason: string;
  /** The attempt failed before its first content chunk (the commit point). */
  readonly beforeContent: boolean;
  /**
   * The prompt was much larger than any the provider answered lately (see
   * `CooldownTracker.isMuchLargerThanRecentPrompts`); asked only when needed.
   */
  readonly promptMuchLargerThanRecent: () => boolean;
}

/** Statuses with which an upstream says the request itself is wrong, whoever sends it. */
const requestFaultStatuses = new Set([400, 413, 414, 422]);

/**
 * Whether a failure says something about the provider's health. Failures the
 * request caused would fail on a healthy provider too, so they never push it
 * towards a cooldown:
 *
 * - the client left (an abort), or the provider refused the request before calling
 *   its upstream (an invalid option, an unknown model);
 * - the answer passed the registry's own cap for a JSON answer (a long answer is
 *   no sign of a sick provider);
 * - the upstream answered 400, 413, 414 or 422, or said the context is too long;
 * - a timeout (once the prompt was sent, before the first content chunk) on a
 *   prompt much larger than the provider's recent successful prompts: time to the
 *   first token grows with the prompt, so a huge prompt can time out on a provider
 *   that answers everyone else.
 *   The comparison is with the provider's own recent successes, so a dead upstream
 *   (no successes) is still found out, and a prompt of the usual size still counts.
 *
 * Everything else (5xx, 429, refused connections, timeouts on ordinary prompts,
 * errors inside a 200 stream, empty or broken answers) is the provider's.
 */
export function blameFailure(error: unknown, facts: FailedAttemptFacts): FailureBlame {
  if (!ProviderError.isInstance(error)) return "provider";
  if (
    AbortError.isInstance(error) ||
    ContextLengthExceededError.isInstance(error) ||
    ModelNotSupportedError.isInstance(error) ||
    (ResponseTooLargeError.isInstance(error) && error.limitName === answerLimitName)
  )
    return "request";
  if (facts.reason === "refused") return "request";
  if (
    ResponseStatusError.isInstance(error) &&
    error.status !== undefined &&
    requestFaultStatuses.has(error.status)
  )
    return "request";
  // A connect timeout came before the prompt was sent: the prompt can not have caused it.
  if (
    TimeoutError.isInstance(error) &&
    error.phase !== "connect" &&
    facts.beforeContent &&
    facts.promptMuchLargerThanRecent()
  )
    return "request";
  return "provider";
}
