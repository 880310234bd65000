import { createHash, randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { presentedKey } from "./api-keys.js";
import type { ApiKeyLimits } from "./config.js";
import { HttpError } from "./http-errors.js";
import type { AdmissionDecision, KeyLimits, LimitState, StateStore } from "./state-store.js";

/** An admitted request of a limited key: its headers, and the call that ends it. */
export interface KeyAdmission {
  /** `x-ratelimit-*`, as OpenAI sends them on every answer. */
  readonly headers: Record<string, string>;
  /** The request ended, having used `tokens` (prompt and completion). */
  finish(tokens: number): void;
}

interface LimitedKey {
  /** What the state store names the key by: a hash, never the key. */
  readonly id: string;
  readonly limits: KeyLimits;
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * A duration as OpenAI writes its `x-ratelimit-reset-*` headers (Go's format):
 * `120ms`, `1s`, `6m0s`, `1h0m0s`.
 */
export function resetDuration(milliseconds: number): string {
  const ms = Math.max(0, Math.ceil(milliseconds));
  if (ms < 1_000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, "")}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

function limitHeaders(decision: AdmissionDecision): Record<string, string> {
  const headers: Record<string, string> = {};
  const add = (suffix: string, state: LimitState | undefined) => {
    if (state === undefined) return;
    headers[`x-ratelimit-limit-${suffix}`] = String(state.limit);
    headers[`x-ratelimit-remaining-${suffix}`] = String(state.remaining);
    headers[`x-ratelimit-reset-${suffix}`] = resetDuration(state.resetMs);
  };
  add("requests", decision.requests);
  add("tokens", decision.tokens);
  return headers;
}

/** How long a refused request should wait: until the refusing window's oldest second leaves it. */
function waitMs(decision: AdmissionDecision): number {
  if (decision.refusedBy === "requests") return decision.requests?.resetMs ?? 1_000;
  if (decision.refusedBy === "tokens") return decision.tokens?.resetMs ?? 1_000;
  // A slot frees when a request ends, which nothing here can foresee: a second is a fair guess.
  return 1_000;
}

function refusal(decision: AdmissionDecision): HttpError {
  const wait = waitMs(decision);
  const headers = {
    ...limitHeaders(decision),
    "retry-after": String(Math.max(1, Math.ceil(wait / 1000))),
    "retry-after-ms": String(Math.max(1, Math.ceil(wait))),
  };
  const again = `Please try again in ${resetDuration(wait)}.`;
  if (decision.refusedBy === "requests")
    return new HttpError(
      429,
      `Rate limit reached for requests per minute (rpm) of this API key: Limit ${decision.requests?.limit}, Used ${decision.requests?.limit}, Requested 1. ${again}`,
      { type: "requests", code: "rate_limit_exceeded", headers },
    );
  if (decision.refusedBy === "tokens")
    return new HttpError(
      429,
      `Rate limit reached for tokens per minute (tpm) of this API key: Limit ${decision.tokens?.limit}, Used ${(decision.tokens?.limit ?? 0) - (decision.tokens?.remaining ?? 0)}. ${again}`,
      { type: "tokens", code: "rate_limit_exceeded", headers },
    );
  return new HttpError(
    429,
    `Too many concurrent requests of this API key: Limit ${decision.concurrent?.limit} (maxConcurrent). ${again}`,
    { type: "requests", code: "rate_limit_exceeded", headers },
  );
}

/**
 * The per-key limits of `server.apiKeys` (`rpm`, `tpm`, `maxConcurrent`), counted
 * in the registry's state store: in this process, or across replicas in Redis. A
 * request over a limit is refused with OpenAI's 429 (`rate_limit_exceeded`, with
 * `retry-after` and the `x-ratelimit-*` headers); an admitted one gets the same
 * headers and must be finished (it holds a concurrency slot and its tokens count
 * when it ends). Keys without limits, and servers without keys, cost nothing here.
 */
export class KeyRateLimits {
  readonly #keys = new Map<string, LimitedKey>();
  /** Requests refused so far, by the limit that refused them. */
  readonly refusals = { requests: 0, tokens: 0, concurrent: 0 };

  constructor(
    entries: readonly ApiKeyLimits[],
    readonly store: StateStore,
    private readonly now: () => number = Date.now,
  ) {
    for (const entry of entries) {
      const { rpm, tpm, maxConcurrent } = entry;
      this.#keys.set(digest(entry.key), {
        id: digest(`g4f-ts rate limits\u0000${entry.key}`).slice(0, 32),
        limits: { rpm, tpm, maxConcurrent },
      });
    }
  }

  /** True when some key has limits. */
  get enabled(): boolean {
    return this.#keys.size > 0;
  }

  /**
   * Count a request against its key's limits; undefined when its key has none.
   * Throws the 429 `HttpError` when a limit is reached.
   */
  async admit(headers: IncomingHttpHeaders): Promise<KeyAdmission | undefined> {
    if (this.#keys.size === 0) return undefined;
    const presented = presentedKey(headers);
    const key = presented === undefined ? undefined : this.#keys.get(digest(presented));
    if (key === undefined) return undefined;
    // Not the client's x-request-id: two requests may send the same one.
    const requestId = randomUUID();
    const decision = await this.store.admitRequest(key.id, key.limits, requestId, this.now());
    if (decision.refusedBy !== undefined) {
      this.refusals[decision.refusedBy]++;
      throw refusal(decision);
    }
    let finished = false;
    return {
      headers: limitHeaders(decision),
      finish: (tokens: number) => {
        if (finished) return;
        finished = true;
        this.store.finishRequest(key.id, key.limits, requestId, tokens, this.now());
      },
    };
  }
}
