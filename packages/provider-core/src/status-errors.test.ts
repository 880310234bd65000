import { describe, expect, it } from "vitest";
import {
  AbortError,
  ConnectionError,
  ContextLengthExceededError,
  InvalidResponseError,
  MissingAuthError,
  PaymentRequiredError,
  ProviderError,
  RateLimitError,
  ResponseStatusError,
  TimeoutError,
} from "./provider-errors.js";
import {
  errorFromPayload,
  errorFromStatus,
  parseRetryAfter,
  toProviderError,
} from "./status-errors.js";

describe("errorFromStatus", () => {
  it.each([
    [400, ResponseStatusError, false],
    [401, MissingAuthError, false],
    [402, PaymentRequiredError, false],
    [403, MissingAuthError, false],
    [404, ResponseStatusError, false],
    [408, ResponseStatusError, true],
    [409, ResponseStatusError, true],
    [422, ResponseStatusError, false],
    [429, RateLimitError, true],
    [500, ResponseStatusError, true],
    [502, ResponseStatusError, true],
    [503, ResponseStatusError, true],
    [504, ResponseStatusError, true],
  ])(
    "maps status %i to its class with the right retryable flag",
    (status, errorClass, retryable) => {
      const error = errorFromStatus({
        provider: "Example",
        status,
        body: '{"message":"upstream says no"}',
      });
      expect(error).toBeInstanceOf(errorClass);
      expect(error.constructor).toBe(errorClass);
      expect(error.retryable).toBe(retryable);
      expect(error.status).toBe(status);
      expect(error.provider).toBe("Example");
      expect(error.message).toBe(`Example answered ${status}: upstream says no`);
    },
  );

  it("treats a balance or quota message as PaymentRequiredError under any status", () => {
    const message =
      "Amigo, your balance is not enough to make the request, wait until 12 UTC or upgrade your plan";
    for (const status of [400, 403, 429, 500]) {
      const error = errorFromStatus({
        provider: "AmigoChat",
        status,
        body: JSON.stringify({ message }),
      });
      expect(error).toBeInstanceOf(PaymentRequiredError);
      expect(error.retryable).toBe(false);
      expect(error.message).toContain("your balance is not enough");
    }
    const openAIQuota = errorFromStatus({
      provider: "OpenAI",
      status: 429,
      body: JSON.stringify({
        error: { message: "You exceeded your current quota", code: "insufficient_quota" },
      }),
    });
    expect(openAIQuota).toBeInstanceOf(PaymentRequiredError);
  });

  it("recognises a context-length error", () => {
    const error = errorFromStatus({
      provider: "OpenAI",
      status: 400,
      body: JSON.stringify({
        error: { message: "This model's maximum context length is 8192 tokens" },
      }),
    });
    expect(error).toBeInstanceOf(ContextLengthExceededError);
  });

  it.each([
    [
      400,
      '{"error":{"message":"the request exceeds the available context size","type":"exceed_context_size_error"}}',
    ],
    [400, '{"object":"error","message":"This model\'s maximum model length is 4096 tokens"}'],
    [
      400,
      '{"error":{"message":"Please reduce the length of the messages","code":"context_length_exceeded"}}',
    ],
    [422, '{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096"}'],
  ])("recognises the context-length dialects of other servers (%i %s)", (status, body) => {
    expect(errorFromStatus({ provider: "Upstream", status, body })).toBeInstanceOf(
      ContextLengthExceededError,
    );
  });

  it("classifies by the JSON error code when the message does not say it", () => {
    const error = errorFromStatus({
      provider: "OpenAI",
      status: 429,
      body: '{"error":{"message":"Please check your plan","code":"insufficient_quota"}}',
    });
    expect(error).toBeInstanceOf(PaymentRequiredError);
  });

  it("turns a bot-protection HTML page into a short message, not a dump of the page", () => {
    const page = `<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>${"x".repeat(5000)} Sorry, you have been blocked</body></html>`;
    const error = errorFromStatus({ provider: "AmigoChat", status: 403, body: page });
    expect(error).toBeInstanceOf(ResponseStatusError);
    expect(error).not.toBeInstanceOf(MissingAuthError);
    expect(error.message).toBe(
      "AmigoChat answered 403: blocked by the upstream's bot protection (an HTML challenge page)",
    );
    expect(error.body?.length).toBeLessThan(600);
  });

  it("keeps the upstream's JSON message and status for a 403 from the API itself", () => {
    const error = errorFromStatus({
      provider: "AmigoChat",
      status: 403,
      body: '{"message":"Forbidden","statusCode":403}',
    });
    expect(error).toBeInstanceOf(MissingAuthError);
    expect(error.message).toBe("AmigoChat answered 403: Forbidden");
  });

  it("trims a long body", () => {
    const error = errorFromStatus({ provider: "Example", status: 500, body: "y".repeat(10_000) });
    expect(error.body?.length).toBeLessThan(600);
    expect(error.message.length).toBeLessThan(700);
  });

  it("scrubs secret values the upstream echoes back", () => {
    const error = errorFromStatus({
      provider: "Example",
      status: 401,
      body: '{"message":"bad key sk-secret-123456"}',
      secrets: ["sk-secret-123456"],
    });
    expect(error.message).not.toContain("sk-secret-123456");
    expect(error.body).not.toContain("sk-secret-123456");
    expect(error.message).toContain("[redacted]");
  });

  it("reads retry-after for any status", () => {
    const error = errorFromStatus({
      provider: "Example",
      status: 429,
      headers: { "retry-after": "7" },
    });
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.retryAfter).toBe(7);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds", () => {
    expect(parseRetryAfter({ "retry-after": "12" })).toBe(12);
    expect(parseRetryAfter({ "retry-after": "0.5" })).toBe(0.5);
  });

  it("reads an HTTP date relative to now, never below zero", () => {
    const now = Date.parse("Tue, 24 Nov 2026 12:00:00 GMT");
    expect(parseRetryAfter({ "retry-after": "Tue, 24 Nov 2026 12:00:30 GMT" }, now)).toBe(30);
    expect(parseRetryAfter({ "retry-after": "Tue, 24 Nov 2026 11:00:00 GMT" }, now)).toBe(0);
  });

  it("prefers retry-after-ms, in milliseconds", () => {
    expect(parseRetryAfter({ "retry-after-ms": "1500", "retry-after": "9" })).toBe(1.5);
  });

  it("reads a Headers object as well as a plain record", () => {
    expect(parseRetryAfter(new Headers({ "retry-after": "3" }))).toBe(3);
  });

  it("gives undefined for a missing or unreadable value", () => {
    expect(parseRetryAfter({})).toBeUndefined();
    expect(parseRetryAfter({ "retry-after": "soon" })).toBeUndefined();
    expect(parseRetryAfter({ "retry-after-ms": "-4" })).toBeUndefined();
  });
});

describe("errorFromPayload", () => {
  it("maps an error object inside a successful answer by its status or code", () => {
    expect(
      errorFromPayload("Example", { error: { message: "slow down", code: 429 } }),
    ).toBeInstanceOf(RateLimitError);
    expect(
      errorFromPayload("Example", { error: { message: "no", type: "insufficient_quota" } }),
    ).toBeInstanceOf(PaymentRequiredError);
    const generic = errorFromPayload("Example", {
      error: { message: "Error handling AIML chat completion stream" },
    });
    expect(generic).toBeInstanceOf(ResponseStatusError);
    expect(generic.retryable).toBe(true);
    expect(generic.message).toContain("Error handling AIML chat completion stream");
  });

  it("accepts a bare string error", () => {
    expect(errorFromPayload("Example", { error: "boom" }).message).toContain("boom");
  });
});

describe("toProviderError", () => {
  const context = {
    provider: "Example",
    connectTimeoutMs: 1,
    firstByteTimeoutMs: 2,
    idleTimeoutMs: 3,
  };

  it.each([
    ["UND_ERR_CONNECT_TIMEOUT", "connect"],
    ["UND_ERR_HEADERS_TIMEOUT", "first-byte"],
    ["UND_ERR_BODY_TIMEOUT", "idle"],
  ])("maps undici's %s to a TimeoutError of phase %s", (code, phase) => {
    const error = toProviderError(Object.assign(new Error("t"), { code }), context);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).phase).toBe(phase);
    expect(error.retryable).toBe(true);
  });

  it("maps socket failures to a retryable ConnectionError and aborts to AbortError", () => {
    const refused = toProviderError(
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      context,
    );
    expect(refused).toBeInstanceOf(ConnectionError);
    expect(refused.retryable).toBe(true);
    const aborted = toProviderError(
      Object.assign(new Error("aborted"), { code: "UND_ERR_ABORTED" }),
      context,
    );
    expect(aborted).toBeInstanceOf(AbortError);
    expect(aborted.retryable).toBe(false);
  });

  it("passes a ProviderError through unchanged", () => {
    const original = new InvalidResponseError({ provider: "Example" });
    expect(toProviderError(original, context)).toBe(original);
  });
});

describe("isInstance", () => {
  it("recognises errors from another copy of the package through the Symbol.for marker", () => {
    const foreign = {
      [Symbol.for("g4f-ts.error.ProviderError")]: true,
      [Symbol.for("g4f-ts.error.RateLimitError")]: true,
    };
    expect(ProviderError.isInstance(foreign)).toBe(true);
    expect(RateLimitError.isInstance(foreign)).toBe(true);
    expect(MissingAuthError.isInstance(foreign)).toBe(false);
    const local = new RateLimitError({ provider: "Example" });
    expect(ResponseStatusError.isInstance(local)).toBe(true);
    expect(TimeoutError.isInstance(local)).toBe(false);
    expect(local.name).toBe("RateLimitError");
  });
});
