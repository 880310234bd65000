import {
  type Chunk,
  chunkBatchesOf,
  createCompletion,
  isContentChunk,
  MissingAuthError,
  ModelNotSupportedError,
  type Provider,
  ProviderError,
  providerContractViolations,
  RateLimitError,
  ResponseStatusError,
  TimeoutError,
} from "@g4f-ts/provider-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { describeCapabilityConformance } from "./capability-conformance.js";
import type { FakeServer } from "./fake-server.js";

/** What a provider package gives the conformance suite: its fake upstream and how to point at it. */
export interface ProviderConformanceOptions {
  /** Named in the suite's title. */
  name: string;
  /** Starts the provider's fake upstream (a testkit protocol fake). */
  startUpstream(): Promise<FakeServer>;
  /**
   * A provider that talks to `baseUrl`, with its own retries kept small (one attempt,
   * or tiny backoffs) so that failure cases stay fast.
   */
  createProvider(baseUrl: string): Provider;
  /** A chat model to call (default: the provider's default model). */
  chatModel?: string;
  /** An image model to call, when the provider has any. */
  imageModel?: string;
  /** A secret the provider sends (an API key): it must never appear in an error. */
  secret?: string;
}

const messages = [{ role: "user" as const, content: "Say hello" }];

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail, and it succeeded");
}

/**
 * The behaviour every provider must show, as a vitest suite: model listing and
 * resolution, the same text streamed and not, the same chunks through the
 * batched view (`chunkBatchesOf`) as one by one, cancellation closing the upstream
 * socket, timeouts, the error classes and their `retryable`, no secret in any
 * error, and its declared capabilities held to (every call feature, response format
 * and input kind a model declares is accepted; every other one is refused with an
 * `InvalidOptionsError` naming the request field, before any request is sent).
 * Call it from a test file of the provider's package.
 *
 * @example
 * describeProviderConformance({
 *   name: "AmigoChat",
 *   startUpstream: () => startAmigoChatFake(),
 *   createProvider: (baseUrl) => new AmigoChat({ baseUrl, retry: { maxAttempts: 1 } }),
 * });
 */
export function describeProviderConformance(options: ProviderConformanceOptions): void {
  describe(`${options.name} conforms to the provider contract`, () => {
    let upstream: FakeServer;
    let provider: Provider;
    let chatModel: string;

    beforeAll(async () => {
      upstream = await options.startUpstream();
      provider = options.createProvider(upstream.url);
      chatModel = options.chatModel ?? provider.defaultModel;
    });
    afterEach(() => upstream.setFaults(undefined));
    afterAll(async () => {
      await upstream.close();
    });

    it("has every member of the contract", () => {
      expect(providerContractViolations(provider)).toEqual([]);
    });

    it("lists its models and resolves names as g4f does", () => {
      const models = provider.getModels();
      expect(models.length).toBeGreaterThan(0);
      expect(models).toContain(provider.defaultModel);
      for (const model of [...provider.chatModels, ...provider.imageModels])
        expect(models).toContain(model);
      expect(provider.getModel("")).toBe(provider.defaultModel);
      for (const [alias, target] of Object.entries(provider.modelAliases)) {
        expect(provider.getModel(alias)).toBe(target);
      }
      expect(() => provider.getModel("no-such-model-anywhere")).toThrow(ModelNotSupportedError);
    });

    it("gives the same text streamed and not streamed", async () => {
      const streamed = await createCompletion(provider, chatModel, messages, { stream: true });
      const whole = await createCompletion(provider, chatModel, messages, { stream: false });
      expect(streamed.text.length).toBeGreaterThan(0);
      expect(whole.text).toBe(streamed.text);
    });

    it("gives the same chunks through the batched view as one by one", async () => {
      // The text of each chunk, and the kind of the others (an upstream id may differ per call).
      const describeChunk = (chunk: Chunk) =>
        typeof chunk === "string" ? chunk : chunk.constructor.name;
      const call = () => provider.createAsyncGenerator(chatModel, messages, { stream: true });
      const oneByOne: string[] = [];
      for await (const chunk of call()) oneByOne.push(describeChunk(chunk));
      const batched: string[] = [];
      for await (const batch of chunkBatchesOf(call()))
        for (const chunk of batch) batched.push(describeChunk(chunk));
      expect(oneByOne.length).toBeGreaterThan(0);
      expect(batched).toEqual(oneByOne);
    });

    if (options.imageModel !== undefined) {
      const imageModel = options.imageModel;
      it("answers an image model with an ImageResponse carrying the prompt", async () => {
        const completion = await createCompletion(provider, imageModel, [
          { role: "user", content: "a cat" },
        ]);
        expect(completion.images.length).toBeGreaterThan(0);
        expect(completion.imagePrompts).toEqual(["a cat"]);
      });
    }

    it("closes the upstream socket at once when the call is aborted mid-stream", async () => {
      upstream.setFaults([{ kind: "never-end", afterChunks: 1 }]);
      const controller = new AbortController();
      const iterator = provider
        .createAsyncGenerator(chatModel, messages, { stream: true, signal: controller.signal })
        [Symbol.asyncIterator]();
      // Up to the first content: metadata (the upstream's id, say) may come before it.
      let first = await iterator.next();
      while (first.done !== true && !isContentChunk(first.value)) first = await iterator.next();
      expect(first.done).toBe(false);
      const closed = upstream.nextConnectionClose(1000);
      const pending = failureOf(iterator.next());
      const abortedAt = Date.now();
      controller.abort();
      const error = await pending;
      expect(ProviderError.isInstance(error) && error.name === "AbortError").toBe(true);
      expect((await closed) - abortedAt).toBeLessThan(500);
    });

    it("times out instead of waiting forever for a silent upstream", async () => {
      upstream.setFaults(() => ({ kind: "delay-headers", ms: 2000 }));
      const started = Date.now();
      const error = await failureOf(
        createCompletion(provider, chatModel, messages, { timeout: 0.2 }),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(1900);
    });

    it("fails a 401 with MissingAuthError, not retryable", async () => {
      upstream.setFaults(() => ({
        kind: "status",
        status: 401,
        body: { error: { message: "bad credentials" } },
      }));
      const error = await failureOf(createCompletion(provider, chatModel, messages));
      expect(error).toBeInstanceOf(MissingAuthError);
      expect((error as MissingAuthError).retryable).toBe(false);
      expect((error as MissingAuthError).status).toBe(401);
    });

    it("fails a 429 with a retryable RateLimitError carrying retry-after", async () => {
      upstream.setFaults(() => ({ kind: "status", status: 429, retryAfter: "0" }));
      const error = await failureOf(createCompletion(provider, chatModel, messages));
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as RateLimitError).retryable).toBe(true);
      expect((error as RateLimitError).retryAfter).toBe(0);
    });

    it("fails a 503 with a retryable ResponseStatusError", async () => {
      upstream.setFaults(() => ({ kind: "status", status: 503 }));
      const error = await failureOf(createCompletion(provider, chatModel, messages));
      expect(error).toBeInstanceOf(ResponseStatusError);
      expect((error as ResponseStatusError).retryable).toBe(true);
      expect((error as ResponseStatusError).status).toBe(503);
    });

    it("turns an error inside a 200 stream into a typed error", async () => {
      upstream.setFaults(() => ({
        kind: "error-in-stream",
        error: { message: "upstream broke down" },
      }));
      const error = await failureOf(
        createCompletion(provider, chatModel, messages, { stream: true }),
      );
      expect(ProviderError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain("upstream broke down");
    });

    it("keeps every secret out of its errors, even when the upstream echoes it", async () => {
      const secret = options.secret ?? "conformance-secret-value";
      upstream.setFaults(() => ({
        kind: "status",
        status: 401,
        body: { error: { message: `key ${secret} rejected` } },
      }));
      const error = await failureOf(createCompletion(provider, chatModel, messages));
      expect(error).toBeInstanceOf(MissingAuthError);
      const sent = upstream.requests.at(-1)?.headers ?? {};
      const secrets = [options.secret];
      for (const name of ["authorization", "x-api-key", "api-key", "cookie"]) {
        const value = sent[name];
        if (typeof value === "string") secrets.push(value.replace(/^(?:bearer|basic)\s*/i, ""));
      }
      const seen = JSON.stringify({
        ...(error as object),
        message: (error as Error).message,
        stack: (error as Error).stack,
      });
      for (const value of secrets) {
        if (value !== undefined && value.length >= 8) expect(seen).not.toContain(value);
      }
    });

    describeCapabilityConformance({
      provider: () => provider,
      upstream: () => upstream,
      chatModel: () => chatModel,
      imageModel: options.imageModel,
    });
  });
}
