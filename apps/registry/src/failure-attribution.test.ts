import {
  AbortError,
  ConnectionError,
  ContextLengthExceededError,
  ProviderError,
  RateLimitError,
  ResponseStatusError,
  TimeoutError,
} from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import { blameFailure } from "./failure-attribution.js";
import { failureReason } from "./fallback.js";

function blame(error: unknown, promptMuchLarger = false, beforeContent = true) {
  return blameFailure(error, {
    reason: failureReason(error),
    beforeContent,
    promptMuchLargerThanRecent: () => promptMuchLarger,
  });
}

const status = (code: number) =>
  new ResponseStatusError({ provider: "p", status: code, message: `status ${code}` });
const timeout = () => new TimeoutError({ provider: "p", phase: "first-byte", timeoutMs: 60_000 });

describe("blameFailure", () => {
  it("blames the request for statuses that say the request is wrong", () => {
    for (const code of [400, 413, 414, 422]) expect(blame(status(code))).toBe("request");
    expect(
      blame(new ContextLengthExceededError({ provider: "p", status: 400, message: "too long" })),
    ).toBe("request");
  });

  it("blames the request when the client left or the provider refused it before calling out", () => {
    expect(blame(new AbortError({ provider: "p" }))).toBe("request");
    expect(
      blame(new ProviderError({ provider: "p", retryable: false, message: "bad option" })),
    ).toBe("request");
  });

  it("blames the provider for server errors, rate limits, broken connections and unknown errors", () => {
    for (const code of [500, 502, 503, 504]) expect(blame(status(code))).toBe("provider");
    expect(blame(new RateLimitError({ provider: "p", retryAfter: 3, message: "slow down" }))).toBe(
      "provider",
    );
    expect(blame(new ConnectionError({ provider: "p", message: "refused" }))).toBe("provider");
    expect(blame(new TypeError("boom"))).toBe("provider");
  });

  it("blames a timeout before content on the prompt only when it was much larger than the recent ones", () => {
    expect(blame(timeout(), true)).toBe("request");
    expect(blame(timeout(), false)).toBe("provider");
    // After content has come, the prompt was read: a timeout then is the provider's.
    expect(blame(timeout(), true, false)).toBe("provider");
    // A connect timeout came before the prompt was sent.
    expect(
      blame(new TimeoutError({ provider: "p", phase: "connect", timeoutMs: 1_000 }), true),
    ).toBe("provider");
  });
});
