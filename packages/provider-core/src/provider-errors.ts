/**
 * The one error hierarchy of g4f-ts. Every error says which provider raised it,
 * whether trying again (on this provider or another) can help (`retryable`), and for
 * HTTP failures the status, the upstream's message (trimmed) and `retryAfter`.
 *
 * `instanceof` works within one copy of this package; the static `isInstance` works
 * across copies too, through a `Symbol.for` marker per class (the AI SDK's pattern).
 */
const markerPrefix = "g4f-ts.error.";

function hasMarker(value: unknown, marker: symbol): boolean {
  return typeof value === "object" && value !== null && marker in value;
}

export interface ProviderErrorOptions {
  /** The provider's label; "unknown" where no provider is involved. */
  provider?: string;
  message?: string;
  cause?: unknown;
  status?: number;
  /** The upstream's answer, trimmed; never request headers. */
  body?: string;
  /** Seconds the upstream asked to wait before trying again. */
  retryAfter?: number;
  retryable?: boolean;
}

const providerErrorMarker = Symbol.for(`${markerPrefix}ProviderError`);

export class ProviderError extends Error {
  readonly [providerErrorMarker] = true;
  override readonly name: string = "ProviderError";
  readonly provider: string;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly body: string | undefined;
  readonly retryAfter: number | undefined;

  constructor(options: ProviderErrorOptions = {}) {
    super(options.message ?? "The provider failed", { cause: options.cause });
    this.provider = options.provider ?? "unknown";
    this.retryable = options.retryable ?? false;
    this.status = options.status;
    this.body = options.body;
    this.retryAfter = options.retryAfter;
  }

  static isInstance(value: unknown): value is ProviderError {
    return hasMarker(value, providerErrorMarker);
  }

  /** A plain object for logs and HTTP error bodies. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      provider: this.provider,
      retryable: this.retryable,
      status: this.status,
      retryAfter: this.retryAfter,
    };
  }
}

const modelNotSupportedMarker = Symbol.for(`${markerPrefix}ModelNotSupportedError`);

/** The provider does not serve the model; `suggestions` holds a few close names. */
export class ModelNotSupportedError extends ProviderError {
  readonly [modelNotSupportedMarker] = true;
  override readonly name = "ModelNotSupportedError";
  readonly model: string;
  readonly suggestions: string[];

  constructor(options: ProviderErrorOptions & { model: string; suggestions?: string[] }) {
    const suggestions = options.suggestions ?? [];
    const hint =
      suggestions.length > 0
        ? ` Did you mean ${suggestions.map((name) => `"${name}"`).join(", ")}?`
        : "";
    super({
      ...options,
      retryable: false,
      message:
        options.message ??
        `Model "${options.model}" is not supported by ${options.provider ?? "the provider"}.${hint}`,
    });
    this.model = options.model;
    this.suggestions = suggestions;
  }

  static override isInstance(value: unknown): value is ModelNotSupportedError {
    return hasMarker(value, modelNotSupportedMarker);
  }
}

const responseStatusMarker = Symbol.for(`${markerPrefix}ResponseStatusError`);

/** The upstream answered with a status that is not a success. */
export class ResponseStatusError extends ProviderError {
  readonly [responseStatusMarker] = true;
  override readonly name: string = "ResponseStatusError";

  static override isInstance(value: unknown): value is ResponseStatusError {
    return hasMarker(value, responseStatusMarker);
  }
}

const rateLimitMarker = Symbol.for(`${markerPrefix}RateLimitError`);

/** 429: too many requests. Retryable, after `retryAfter` seconds where the upstream said. */
export class RateLimitError extends ResponseStatusError {
  readonly [rateLimitMarker] = true;
  override readonly name = "RateLimitError";

  constructor(options: ProviderErrorOptions) {
    super({ status: 429, ...options, retryable: true });
  }

  static override isInstance(value: unknown): value is RateLimitError {
    return hasMarker(value, rateLimitMarker);
  }
}

const missingAuthMarker = Symbol.for(`${markerPrefix}MissingAuthError`);

/** 401/403: credentials are missing, wrong or not allowed. Not retryable. */
export class MissingAuthError extends ResponseStatusError {
  readonly [missingAuthMarker] = true;
  override readonly name = "MissingAuthError";

  constructor(options: ProviderErrorOptions) {
    super({ ...options, retryable: false });
  }

  static override isInstance(value: unknown): value is MissingAuthError {
    return hasMarker(value, missingAuthMarker);
  }
}

const paymentRequiredMarker = Symbol.for(`${markerPrefix}PaymentRequiredError`);

/** 402, or a quota/balance message under any status: retrying does not help until it is topped up. */
export class PaymentRequiredError extends ResponseStatusError {
  readonly [paymentRequiredMarker] = true;
  override readonly name = "PaymentRequiredError";

  constructor(options: ProviderErrorOptions) {
    super({ ...options, retryable: false });
  }

  static override isInstance(value: unknown): value is PaymentRequiredError {
    return hasMarker(value, paymentRequiredMarker);
  }
}

const contextLengthMarker = Symbol.for(`${markerPrefix}ContextLengthExceededError`);

/** The conversation is longer than the model's context window. Not retryable as it is. */
export class ContextLengthExceededError extends ResponseStatusError {
  readonly [contextLengthMarker] = true;
  override readonly name = "ContextLengthExceededError";

  constructor(options: ProviderErrorOptions) {
    super({ ...options, retryable: false });
  }

  static override isInstance(value: unknown): value is ContextLengthExceededError {
    return hasMarker(value, contextLengthMarker);
  }
}

/** Which wait ran out: connecting, the first byte of the answer, a gap between chunks, or the whole call. */
export type TimeoutPhase = "connect" | "first-byte" | "idle" | "total";

const timeoutMarker = Symbol.for(`${markerPrefix}TimeoutError`);

export class TimeoutError extends ProviderError {
  readonly [timeoutMarker] = true;
  override readonly name = "TimeoutError";
  readonly phase: TimeoutPhase;
  readonly timeoutMs: number;

  constructor(options: ProviderErrorOptions & { phase: TimeoutPhase; timeoutMs: number }) {
    super({
      retryable: true,
      ...options,
      message:
        options.message ??
        `${options.provider ?? "The provider"} timed out (${options.phase} timeout of ${options.timeoutMs} ms)`,
    });
    this.phase = options.phase;
    this.timeoutMs = options.timeoutMs;
  }

  static override isInstance(value: unknown): value is TimeoutError {
    return hasMarker(value, timeoutMarker);
  }
}

const connectionMarker = Symbol.for(`${markerPrefix}ConnectionError`);

/** The connection could not be made or broke before an answer (refused, reset, DNS). Retryable. */
export class ConnectionError extends ProviderError {
  readonly [connectionMarker] = true;
  override readonly name = "ConnectionError";

  constructor(options: ProviderErrorOptions) {
    super({ retryable: true, ...options });
  }

  static override isInstance(value: unknown): value is ConnectionError {
    return hasMarker(value, connectionMarker);
  }
}

const streamInterruptedMarker = Symbol.for(`${markerPrefix}StreamInterruptedError`);

/**
 * The stream ended (or broke) after text had arrived, without `[DONE]` or a finish
 * reason: the answer is incomplete. `receivedCharacters` counts what arrived and
 * `partialText` holds its end (the last 4096 characters at most: a stream keeps
 * counts, not its whole text, so that no answer's length costs memory).
 */
export class StreamInterruptedError extends ProviderError {
  readonly [streamInterruptedMarker] = true;
  override readonly name = "StreamInterruptedError";
  /** The end of the text that arrived (all of it when short). */
  readonly partialText: string;
  /** Characters of text that arrived in all. */
  readonly receivedCharacters: number;

  constructor(
    options: ProviderErrorOptions & { partialText: string; receivedCharacters?: number },
  ) {
    const receivedCharacters = options.receivedCharacters ?? options.partialText.length;
    super({
      retryable: true,
      ...options,
      message:
        options.message ??
        `The stream from ${options.provider ?? "the provider"} ended before the answer was complete (${receivedCharacters} characters arrived)`,
    });
    this.partialText = options.partialText;
    this.receivedCharacters = receivedCharacters;
  }

  static override isInstance(value: unknown): value is StreamInterruptedError {
    return hasMarker(value, streamInterruptedMarker);
  }
}

const invalidResponseMarker = Symbol.for(`${markerPrefix}InvalidResponseError`);

/** The upstream answered something this provider cannot read (not JSON, wrong shape). */
export class InvalidResponseError extends ProviderError {
  readonly [invalidResponseMarker] = true;
  override readonly name: string = "InvalidResponseError";

  constructor(options: ProviderErrorOptions) {
    super({ retryable: true, ...options });
  }

  static override isInstance(value: unknown): value is InvalidResponseError {
    return hasMarker(value, invalidResponseMarker);
  }
}

const responseTooLargeMarker = Symbol.for(`${markerPrefix}ResponseTooLargeError`);

/**
 * The upstream sent more than a named limit allows: a body, an SSE line or event
 * that never ends, or a whole answer over its cap. `limit` is the number passed,
 * `limitName` the setting that holds it. Not retryable by default: the same request
 * would meet the same limit.
 */
export class ResponseTooLargeError extends InvalidResponseError {
  readonly [responseTooLargeMarker] = true;
  override readonly name = "ResponseTooLargeError";
  readonly limit: number;
  readonly limitName: string;

  constructor(options: ProviderErrorOptions & { limit: number; limitName: string }) {
    super({ retryable: false, ...options });
    this.limit = options.limit;
    this.limitName = options.limitName;
  }

  static override isInstance(value: unknown): value is ResponseTooLargeError {
    return hasMarker(value, responseTooLargeMarker);
  }
}

const abortMarker = Symbol.for(`${markerPrefix}AbortError`);

/** The caller cancelled the call through its `AbortSignal`. Never retried. */
export class AbortError extends ProviderError {
  readonly [abortMarker] = true;
  override readonly name = "AbortError";

  constructor(options: ProviderErrorOptions = {}) {
    super({ message: "The request was aborted", ...options, retryable: false });
  }

  static override isInstance(value: unknown): value is AbortError {
    return hasMarker(value, abortMarker);
  }
}
