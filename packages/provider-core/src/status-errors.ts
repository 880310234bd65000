import {
  AbortError,
  ConnectionError,
  ContextLengthExceededError,
  MissingAuthError,
  PaymentRequiredError,
  ProviderError,
  RateLimitError,
  ResponseStatusError,
  TimeoutError,
} from "./provider-errors.js";
import { redactSecrets } from "./secret-redaction.js";

/** How much of an upstream body an error keeps. */
const maxBodyLength = 500;

const quotaPattern =
  /balance is not enough|insufficient[_ ]quota|insufficient (?:balance|credits?|funds)|quota (?:exceeded|exhausted)|exceeded your (?:current )?quota|upgrade your plan|payment required|billing/i;
// OpenAI's wording, and the dialects of other OpenAI-compatible servers: llama.cpp
// ("exceeds the available context size", `exceed_context_size_error`), vLLM ("longer
// than the maximum model length"), Groq (only the code), TGI ("`inputs` tokens +
// `max_new_tokens` must be <= …").
const contextLengthPattern =
  /context[_ ]length|maximum context|context window|context[ _]size|exceed_context|maximum model length|too many tokens|prompt is too long|string_above_max_length|`inputs` tokens \+ `max_new_tokens`|input (?:is )?too long/i;
const htmlPattern = /^\s*(?:<!doctype html|<html)/i;
const botProtectionPattern =
  /cloudflare|attention required|you have been blocked|captcha|just a moment/i;

export type HeaderValue = string | string[] | undefined;
export type HeaderBag = Record<string, HeaderValue> | Headers;

function readHeader(headers: HeaderBag | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Seconds to wait, from `retry-after-ms` (milliseconds) or `retry-after` (seconds, or
 * an HTTP date). Undefined when neither is there or readable; never negative.
 */
export function parseRetryAfter(
  headers: HeaderBag | undefined,
  now = Date.now(),
): number | undefined {
  const milliseconds = readHeader(headers, "retry-after-ms");
  if (milliseconds !== undefined && milliseconds.trim() !== "") {
    const value = Number(milliseconds);
    if (Number.isFinite(value) && value >= 0) return value / 1000;
  }
  const retryAfter = readHeader(headers, "retry-after")?.trim();
  if (retryAfter === undefined || retryAfter === "") return undefined;
  if (/^\d+(?:\.\d+)?$/.test(retryAfter)) return Number(retryAfter);
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

/** Cut a text to a length a log line or an error message can carry. */
export function trimBody(text: string, limit = maxBodyLength): string {
  const compact = text.trim();
  return compact.length <= limit
    ? compact
    : `${compact.slice(0, limit)}… (${compact.length} characters)`;
}

/**
 * An upstream's text as an error may carry it: secrets scrubbed in every encoding
 * first, then cut to `limit`, so that no cut leaves a piece of a secret behind.
 * Every text made from upstream bytes goes through here (or through
 * `errorFromStatus`/`errorFromPayload`, which do the same).
 */
export function upstreamSnippet(
  text: string,
  secrets: readonly string[] | undefined,
  limit = maxBodyLength,
): string {
  return trimBody(redactSecrets(text, secrets), limit);
}

function messageOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  for (const key of ["message", "detail", "error_description", "msg"]) {
    const field = record[key];
    if (typeof field === "string" && field !== "") return field;
  }
  if ("error" in record) return messageOf(record.error);
  return undefined;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^\d{3}$/.test(value)) return Number(value);
  return undefined;
}

/** The upstream's own words from a body: the JSON error message, a short note for HTML, or the text. */
/** The `code` and `type` of a JSON error body (`{"error": {"code", "type"}}` or flat), as words. */
function errorWords(json: unknown): string {
  if (typeof json !== "object" || json === null) return "";
  const record = json as Record<string, unknown>;
  const inner =
    typeof record.error === "object" && record.error !== null
      ? (record.error as Record<string, unknown>)
      : record;
  return [inner.code, inner.type].filter((value) => typeof value === "string").join(" ");
}

/**
 * What an error says of a body: a short note for an HTML page, the JSON error's
 * message, or the text. `secrets` are scrubbed from the body before it is parsed
 * and from the message the parse decoded (a JSON escape hides a secret from a
 * search of the raw text only when the search does not know escapes; both are
 * searched so that neither an escape nor a decode lets one through).
 */
export function describeBody(
  body: string,
  secrets?: readonly string[],
): { message: string; blocked: boolean; json: unknown } {
  if (htmlPattern.test(body)) {
    const blocked = botProtectionPattern.test(body);
    return {
      message: blocked
        ? "blocked by the upstream's bot protection (an HTML challenge page)"
        : "the upstream answered with an HTML page instead of JSON",
      blocked,
      json: undefined,
    };
  }
  try {
    const json: unknown = JSON.parse(body);
    return {
      message: upstreamSnippet(messageOf(json) ?? body, secrets),
      blocked: false,
      json,
    };
  } catch {
    return { message: upstreamSnippet(body, secrets), blocked: false, json: undefined };
  }
}

export interface StatusErrorInput {
  provider: string;
  status: number;
  headers?: HeaderBag;
  body?: string;
  /** Secret values sent with the request, scrubbed from the message and body. */
  secrets?: readonly string[];
}

/**
 * The one place where an HTTP status becomes an error class:
 * 401/403 `MissingAuthError` (an HTML block page stays a plain status error),
 * 402 or any quota/balance message `PaymentRequiredError`, 429 `RateLimitError`,
 * a context-length message `ContextLengthExceededError`, and otherwise a
 * `ResponseStatusError` that is retryable for 408, 409, 425 and 5xx.
 */
export function errorFromStatus(input: StatusErrorInput): ProviderError {
  const { provider, status } = input;
  // Scrubbed before the parse (an escaped secret may not survive it as one piece)
  // and after it (describeBody scrubs what the parse decoded), before any cut.
  const body = redactSecrets(input.body ?? "", input.secrets);
  const described = describeBody(body, input.secrets);
  const upstreamMessage = described.message;
  const options = {
    provider,
    status,
    body: trimBody(body),
    retryAfter: parseRetryAfter(input.headers),
    message: `${provider} answered ${status}${upstreamMessage === "" ? "" : `: ${upstreamMessage}`}`,
  };
  return classifyFailure(
    options,
    `${upstreamMessage} ${errorWords(described.json)}`,
    described.blocked,
  );
}

function classifyFailure(
  options: ProviderErrorOptionsWithStatus,
  upstreamMessage: string,
  blocked: boolean,
): ProviderError {
  const { status } = options;
  if (quotaPattern.test(upstreamMessage) || status === 402)
    return new PaymentRequiredError(options);
  if (status === 429) return new RateLimitError(options);
  if ((status === 401 || status === 403) && !blocked) return new MissingAuthError(options);
  if (
    (status === 400 || status === 413 || status === 422) &&
    contextLengthPattern.test(upstreamMessage)
  ) {
    return new ContextLengthExceededError(options);
  }
  return new ResponseStatusError({ ...options, retryable: isRetryableStatus(status) });
}

interface ProviderErrorOptionsWithStatus {
  provider: string;
  status: number;
  body?: string;
  retryAfter?: number | undefined;
  message: string;
}

/** Statuses where the same request can succeed later: 408, 409, 425, 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/**
 * An error object the upstream sent inside a successful answer (`data: {"error": ...}`
 * in a 200 stream, or `{ "error": ... }` as a JSON body), as a typed error. A numeric
 * `status` or `code` in it picks the class as a status would; without one it is a
 * retryable upstream failure (502).
 */
export function errorFromPayload(
  provider: string,
  payload: unknown,
  secrets?: readonly string[],
): ProviderError {
  const error =
    typeof payload === "object" && payload !== null && "error" in payload ? payload.error : payload;
  const record =
    typeof error === "object" && error !== null ? (error as Record<string, unknown>) : {};
  const status = numberOf(record.status) ?? numberOf(record.code) ?? numberOf(record.statusCode);
  // The payload was decoded already: what it says is scrubbed before it is cut or
  // re-encoded into a message.
  const text = redactSecrets(messageOf(error) ?? JSON.stringify(error) ?? "unknown error", secrets);
  const code =
    typeof record.code === "string"
      ? record.code
      : typeof record.type === "string"
        ? record.type
        : "";
  const effectiveStatus =
    status ?? (code === "rate_limit_exceeded" ? 429 : code === "insufficient_quota" ? 402 : 502);
  return classifyFailure(
    {
      provider,
      status: effectiveStatus,
      body: trimBody(text),
      message: `${provider} sent an error in its answer: ${trimBody(text)}`,
    },
    `${text} ${code}`,
    false,
  );
}

const connectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
]);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface TransportErrorContext {
  provider: string;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** Values kept out of the message (a transport error may quote what was sent). */
  secrets?: readonly string[];
}

/**
 * Any error thrown while talking to an upstream, as a `ProviderError`: undici's
 * timeouts become `TimeoutError` with their phase, socket failures `ConnectionError`,
 * an abort `AbortError`. A `ProviderError` passes through unchanged.
 */
export function toProviderError(error: unknown, context: TransportErrorContext): ProviderError {
  if (ProviderError.isInstance(error)) return error;
  const { provider } = context;
  const code = errorCode(error);
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return new TimeoutError({
      provider,
      phase: "connect",
      timeoutMs: context.connectTimeoutMs,
      cause: error,
    });
  }
  if (code === "UND_ERR_HEADERS_TIMEOUT") {
    return new TimeoutError({
      provider,
      phase: "first-byte",
      timeoutMs: context.firstByteTimeoutMs,
      cause: error,
    });
  }
  if (code === "UND_ERR_BODY_TIMEOUT") {
    return new TimeoutError({
      provider,
      phase: "idle",
      timeoutMs: context.idleTimeoutMs,
      cause: error,
    });
  }
  if (code === "UND_ERR_ABORTED" || (error instanceof Error && error.name === "AbortError")) {
    return new AbortError({ provider, cause: error });
  }
  const detail = redactSecrets(
    error instanceof Error ? error.message : String(error),
    context.secrets,
  );
  if (code !== undefined && (connectionCodes.has(code) || code.startsWith("UND_ERR"))) {
    return new ConnectionError({
      provider,
      message: `${provider}: connection failed (${code}: ${detail})`,
      cause: error,
    });
  }
  return new ConnectionError({
    provider,
    message: `${provider}: request failed (${detail})`,
    cause: error,
  });
}
