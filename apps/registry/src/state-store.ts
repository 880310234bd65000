/**
 * The state a registry's replicas may share: cooldown events, in-flight counts and
 * latencies for the routing strategies, and per-API-key limits. A registry alone
 * keeps it in its own process (`MemoryStateStore`); replicas behind a load
 * balancer share it through Redis (`RedisStateStore`), which falls back to its own
 * in-process copy while Redis is away.
 */

/** A success or a failure of a candidate, as one replica tells the others. */
export interface SharedAttemptEvent {
  readonly kind: "success" | "failure";
  readonly provider: string;
  readonly model: string;
  /** The failure's message. */
  readonly message?: string | undefined;
  /** The hashed client identity (never an API key). */
  readonly client?: string | undefined;
  readonly retryAfterSeconds?: number | undefined;
  readonly promptCharacters?: number | undefined;
  /** When the replica that saw it sent it (`Date.now()`), on an event from another replica. */
  readonly sentAt?: number | undefined;
}

/** The limits of one API key; undefined: none. */
export interface KeyLimits {
  readonly rpm: number | undefined;
  readonly tpm: number | undefined;
  readonly maxConcurrent: number | undefined;
}

/** One limit's state after an admission, for the `x-ratelimit-*` headers. */
export interface LimitState {
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the used count next falls (0: nothing is used). */
  readonly resetMs: number;
}

/** Whether a request of a key may go on, and the state of its limits. */
export interface AdmissionDecision {
  /** Undefined: admitted; else the limit that refused it. */
  readonly refusedBy: "requests" | "tokens" | "concurrent" | undefined;
  readonly requests: LimitState | undefined;
  readonly tokens: LimitState | undefined;
  readonly concurrent: LimitState | undefined;
}

/** What `/healthz`, `/v1/providers` and `/metrics` say of the state. */
export interface StateStatus {
  /** `memory`: this process only; `redis`: shared between replicas. */
  readonly backend: "memory" | "redis";
  /** `local`: no sharing configured; `shared`: Redis answers; `degraded`: Redis is away and this replica goes on alone. */
  readonly status: "local" | "shared" | "degraded";
  /** When the current status began (ISO 8601), for `degraded`. */
  readonly since: string | null;
  /** Why Redis is away, when it is. */
  readonly lastError: string | null;
  /** Redis commands that failed or timed out since the start. */
  readonly errors: number;
}

export interface StateStore {
  status(): StateStatus;
  /** Called when the status changes (Redis went away, or came back). */
  onStatusChange(listener: (status: StateStatus) => void): void;
  /** Tell the other replicas of an attempt's outcome (fire and forget). */
  publishAttempt(event: SharedAttemptEvent): void;
  /** Called with the attempts of the other replicas. */
  onRemoteAttempt(listener: (event: SharedAttemptEvent) => void): void;
  /** An attempt of the candidate began; the returned function ends it (once). */
  beginAttempt(provider: string, model: string): () => void;
  /** Attempts of the candidate running now, on every replica as far as known. */
  inFlight(provider: string, model: string): number;
  /** An attempt of the candidate reached its first content after `elapsedMs`. */
  recordFirstContent(provider: string, model: string, elapsedMs: number): void;
  /** The candidate's recent time to first content, or undefined when none is known. */
  latencyMs(provider: string, model: string): number | undefined;
  /**
   * Count a request of `keyId` against its limits, or refuse it; an admitted one
   * holds a concurrency slot until `finishRequest`.
   */
  admitRequest(
    keyId: string,
    limits: KeyLimits,
    requestId: string,
    now: number,
  ): Promise<AdmissionDecision>;
  /** The admitted request ended, having used `tokens`. */
  finishRequest(
    keyId: string,
    limits: KeyLimits,
    requestId: string,
    tokens: number,
    now: number,
  ): void;
  close(): Promise<void>;
}
